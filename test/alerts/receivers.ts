/**
 * Real alert receivers for tests: an HTTP server on a loopback port 0 that records every request (raw
 * body, headers) and answers with a chosen status, and an SMTP server (smtp-server) with STARTTLS from a
 * test CA and AUTH PLAIN/LOGIN. Waiting is on events (`until`), never on time.
 */
import { once } from "node:events";
import { EventEmitter } from "node:events";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";
import { aCa, aServerCert } from "../fixtures/pki.js";

export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  raw: string;
  json: Record<string, unknown>;
  /** The status this request was answered with. */
  status: number;
}

/** Resolves once `check()` holds, re-checking on each `event` of `emitter`. */
export function until(emitter: EventEmitter, event: string, check: () => boolean): Promise<void> {
  if (check()) return Promise.resolve();
  return new Promise((resolve) => {
    const onEvent = (): void => {
      if (!check()) return;
      emitter.off(event, onEvent);
      resolve();
    };
    emitter.on(event, onEvent);
  });
}

export class HttpReceiver extends EventEmitter {
  readonly requests: Received[] = [];
  /** Status of the next answers (default 200); a function decides per request. */
  status: number | ((request: Omit<Received, "status">) => number) = 200;
  private constructor(private readonly server: Server) {
    super();
  }

  static async start(): Promise<HttpReceiver> {
    const server = createServer();
    const receiver = new HttpReceiver(server);
    server.on("request", (request, response) => {
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", () => {
        const raw = Buffer.concat(chunks).toString("utf8");
        let json: Record<string, unknown> = {};
        try {
          json = JSON.parse(raw) as Record<string, unknown>;
        } catch {
          // not JSON: kept raw
        }
        const seen = { path: request.url ?? "", headers: request.headers, raw, json };
        const status = typeof receiver.status === "function" ? receiver.status(seen) : receiver.status;
        receiver.requests.push({ ...seen, status });
        response.writeHead(status, { "content-type": "text/plain" }).end(status < 300 ? "ok" : "error");
        receiver.emit("request");
      });
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    return receiver;
  }

  url(path = "/"): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}${path}`;
  }

  /** Resolves once `count` requests matching `match` arrived. */
  untilCount(count: number, match: (r: Received) => boolean = () => true): Promise<void> {
    return until(this, "request", () => this.requests.filter(match).length >= count);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    this.server.close();
    await once(this.server, "close");
  }
}

export interface Mail {
  from: string;
  to: string[];
  raw: string;
  secure: boolean;
  user?: string;
}

export class SmtpReceiver extends EventEmitter {
  private constructor(
    private readonly server: SMTPServer,
    readonly port: number,
    readonly caPem: string,
    readonly mails: Mail[],
    /** AUTH commands received, and whether each came over TLS. */
    readonly auths: Array<{ secure: boolean }>,
  ) {
    super();
  }

  /**
   * An SMTP server offering STARTTLS with a cert from its own CA and requiring AUTH as user/password;
   * with `plainText`, one that offers no STARTTLS and takes AUTH in clear (an old or hostile relay).
   */
  static async start(
    credentials: { user: string; password: string },
    options: { plainText?: boolean } = {},
  ): Promise<SmtpReceiver> {
    const ca = await aCa({ subject: "CN=Test SMTP CA,O=certrotor tests,C=BR" });
    const cert = await aServerCert({ ca, hosts: ["localhost", "127.0.0.1"] });
    const mails: Mail[] = [];
    const auths: Array<{ secure: boolean }> = [];
    let receiver: SmtpReceiver | undefined;
    const server = new SMTPServer({
      key: cert.keyPem,
      cert: cert.certPem,
      authMethods: ["PLAIN", "LOGIN"],
      logger: false,
      ...(options.plainText ? { hideSTARTTLS: true, allowInsecureAuth: true } : {}),
      onAuth(auth, session, callback) {
        auths.push({ secure: session.secure });
        if (auth.username === credentials.user && auth.password === credentials.password)
          callback(null, { user: auth.username });
        else callback(new Error("Invalid username or password"));
      },
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on("data", (chunk: Buffer) => chunks.push(chunk));
        stream.on("end", () => {
          const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : "";
          mails.push({
            from,
            to: session.envelope.rcptTo.map((r) => r.address),
            raw: Buffer.concat(chunks).toString("utf8"),
            secure: session.secure,
            ...(typeof session.user === "string" ? { user: session.user } : {}),
          });
          callback();
          receiver?.emit("mail");
        });
      },
    });
    server.listen(0, "127.0.0.1");
    await once(server.server, "listening");
    const port = (server.server.address() as AddressInfo).port;
    receiver = new SmtpReceiver(server, port, ca.certPem, mails, auths);
    return receiver;
  }

  untilCount(count: number): Promise<void> {
    return until(this, "mail", () => this.mails.length >= count);
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
