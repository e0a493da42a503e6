/**
 * Vault's API uses the HTTP verb LIST, which Node's HTTP parser rejects (http.METHODS lacks it), and
 * node-vault sends it by default. This connection-level shim sits between the TCP socket and the HTTP
 * server: at the start of each request it rewrites a request line `LIST <path> HTTP/1.1` into
 * `GET <path>?list=true HTTP/1.1` plus a marker header, which Vault itself treats as the same operation.
 *
 * "Start of a request" = the first bytes after the server wrote a response (or the connection opened).
 * That holds for clients that do not pipeline, as node-vault (on node:http) does not.
 */
import type { Socket } from "node:net";
import { Duplex } from "node:stream";

/** Header added to a rewritten request so the server can log (and treat) it as LIST. */
export const LIST_MARKER = "x-emulator-list-verb";

const MAX_REQUEST_LINE = 16 * 1024;

function rewrite(line: string): string {
  // line = "LIST /v1/secret/metadata/ HTTP/1.1\r\n"
  const match = /^LIST (\S+) (HTTP\/\d\.\d)(\r?\n)$/.exec(line);
  if (!match) return line;
  const [, target, version, eol] = match;
  const joiner = target!.includes("?") ? "&" : "?";
  return `GET ${target}${joiner}list=true ${version}${eol}${LIST_MARKER}: 1${eol}`;
}

export class ListVerbShim extends Duplex {
  private head = Buffer.alloc(0);
  private atRequestStart = true;

  constructor(private readonly socket: Socket) {
    super({ allowHalfOpen: true });
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("end", () => {
      this.flushHead();
      this.push(null);
    });
    socket.on("timeout", () => this.emit("timeout"));
    socket.on("error", (error) => this.destroy(error));
    socket.on("close", () => this.destroy());
  }

  get remoteAddress(): string | undefined {
    return this.socket.remoteAddress;
  }

  get remotePort(): number | undefined {
    return this.socket.remotePort;
  }

  setTimeout(ms: number, callback?: () => void): this {
    this.socket.setTimeout(ms);
    if (callback) this.once("timeout", callback);
    return this;
  }

  setNoDelay(noDelay?: boolean): this {
    this.socket.setNoDelay(noDelay);
    return this;
  }

  setKeepAlive(enable?: boolean, delay?: number): this {
    this.socket.setKeepAlive(enable, delay);
    return this;
  }

  override _read(): void {
    this.socket.resume();
  }

  override _write(chunk: Buffer, encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    // The server is answering: whatever the client sends next starts a new request.
    this.atRequestStart = true;
    this.socket.write(chunk, encoding, callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.socket.end(callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.socket.destroy(error ?? undefined);
    callback(error);
  }

  private forward(chunk: Buffer): void {
    if (chunk.length > 0 && !this.push(chunk)) this.socket.pause();
  }

  private flushHead(): void {
    const head = this.head;
    this.head = Buffer.alloc(0);
    this.forward(head);
  }

  private onData(chunk: Buffer): void {
    if (!this.atRequestStart) {
      this.forward(chunk);
      return;
    }
    this.head = Buffer.concat([this.head, chunk]);
    while (this.atRequestStart && this.head.length > 0) {
      const eol = this.head.indexOf(0x0a);
      if (eol === -1) {
        // Keep waiting only while the bytes can still become "LIST ".
        const start = this.head.subarray(0, 5).toString("latin1");
        if ("LIST ".startsWith(start) && this.head.length < MAX_REQUEST_LINE) return;
        this.atRequestStart = false;
        this.flushHead();
        return;
      }
      const line = this.head.subarray(0, eol + 1).toString("latin1");
      const rest = this.head.subarray(eol + 1);
      this.head = Buffer.alloc(0);
      // Blank lines between requests are allowed (RFC 9112 §2.2); the request line is the first non-empty one.
      if (line.trim() !== "") this.atRequestStart = false;
      this.forward(
        line.startsWith("LIST ") ? Buffer.from(rewrite(line), "latin1") : Buffer.from(line, "latin1"),
      );
      if (!this.atRequestStart) {
        this.forward(rest);
        return;
      }
      this.head = rest;
    }
  }
}
