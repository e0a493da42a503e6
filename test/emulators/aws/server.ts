/**
 * An AWS Secrets Manager emulator on the real wire protocol (JSON 1.1: `POST /`, `X-Amz-Target:
 * secretsmanager.<Operation>`, SigV4-signed), for the real `@aws-sdk/client-secrets-manager` v3 client.
 * Request pipeline, in the service's order: operation known → faults → SigV4 → IAM allow list → JSON body →
 * operation. Reads may be served from the state before a secret's last write (the stale-read fault mode);
 * writes always act on the latest state. Logs hold "method target status" lines, never bodies.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { once } from "node:events";
import { type IncomingMessage, type ServerResponse, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as delay } from "node:timers/promises";
import { AwsError, coralError } from "./errors.js";
import { type FaultOptions, FaultInjector } from "./faults.js";
import type { Input } from "./input.js";
import { SecretStoreState, randomSuffix } from "./model.js";
import * as ops from "./secrets.js";
import { verifySigV4 } from "./sigv4.js";
import * as views from "./views.js";

export type { FaultOptions } from "./faults.js";

export interface AwsEmulatorCredential {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  /** Operations this key may call (e.g. "GetSecretValue"); absent = all. */
  allow?: string[];
}

export interface AwsEmulatorOptions {
  port?: number;
  host?: string;
  region?: string;
  accountId?: string;
  /** Keys the emulator accepts; default one random key pair, returned as `credentials`. */
  credentials?: AwsEmulatorCredential[];
  faults?: FaultOptions;
  /** Unlabelled versions younger than this survive pruning (AWS: 24 h; tests set 0). */
  retainUnlabelledMs?: number;
}

export interface AwsEmulator {
  /** Endpoint for the SDK's `endpoint` option, e.g. http://127.0.0.1:41234 */
  url: string;
  /**
   * Resolves once no read can be stale any more (of `secretId`, or of any secret): the stale-read window after
   * the last write has passed. Immediate when the mode is off. For harnesses that seed as an operator would,
   * long before certrotor reads.
   */
  settled(secretId?: string): Promise<void>;
  region: string;
  accountId: string;
  /** The first accepted key pair. */
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** "POST secretsmanager.GetSecretValue 200" per request; never bodies or secret values. */
  logs: string[];
  setFaults(faults: FaultOptions): void;
  stop(): Promise<void>;
}

type Operation = (state: SecretStoreState, input: Input) => object;

/** The operations that only read: under the stale-read fault they may see a secret before its last write. */
const READS = new Set(["GetSecretValue", "DescribeSecret", "ListSecrets", "ListSecretVersionIds"]);

const OPERATIONS: Record<string, Operation> = {
  CreateSecret: ops.createSecret,
  GetSecretValue: ops.getSecretValue,
  PutSecretValue: ops.putSecretValue,
  UpdateSecretVersionStage: ops.updateSecretVersionStage,
  DeleteSecret: ops.deleteSecret,
  RestoreSecret: ops.restoreSecret,
  TagResource: ops.tagResource,
  UntagResource: ops.untagResource,
  DescribeSecret: views.describeSecret,
  ListSecrets: views.listSecrets,
  ListSecretVersionIds: views.listSecretVersionIds,
};

const MAX_BODY = 1_048_576;
const MAX_LOG_LINES = 10_000;

function randomKey(): AwsEmulatorCredential {
  return {
    accessKeyId: `AKIA${randomSuffix(16).toUpperCase()}`,
    secretAccessKey: randomBytes(30).toString("base64"),
  };
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new AwsError("RequestEntityTooLarge", "Request entity too large", 413);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function send(res: ServerResponse, status: number, body: object): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/x-amz-json-1.1",
    "content-length": Buffer.byteLength(payload),
    "x-amzn-RequestId": randomUUID(),
  });
  res.end(payload);
}

function faultError(fault: "error500" | "error503" | "throttle"): AwsError {
  if (fault === "error500")
    return new AwsError("InternalServiceError", "An error occurred on the server side.", 500);
  if (fault === "error503") {
    return new AwsError("ServiceUnavailable", "Service Unavailable", 503, {
      __type: "ServiceUnavailable",
      message: "Service Unavailable",
    });
  }
  return coralError("availability", "ThrottlingException", "Rate exceeded");
}

function parseInput(body: Buffer): Input {
  try {
    const parsed: unknown = JSON.parse(body.length === 0 ? "{}" : body.toString("utf8"));
    if (parsed !== null && typeof parsed === "object" && !Array.isArray(parsed)) return parsed as Input;
  } catch {
    // answered below
  }
  throw coralError("service", "SerializationException");
}

/** The request pipeline, in the service's order: faults → SigV4 → IAM allow list → JSON body → operation. */
class Pipeline {
  constructor(
    readonly region: string,
    readonly accountId: string,
    readonly keys: AwsEmulatorCredential[],
    readonly state: SecretStoreState,
    readonly faults: FaultInjector,
  ) {}

  /** Answers one request; returns what the log line records ("200", "dropped (fault)"). */
  async handle(
    req: IncomingMessage,
    res: ServerResponse,
    operation: string,
    run: Operation,
  ): Promise<string> {
    const body = await readBody(req);
    const fault = this.faults.pick(operation);
    if (this.faults.latencyMs > 0) await delay(this.faults.latencyMs);
    if (fault === "drop") {
      req.socket.destroy();
      return "dropped (fault)";
    }
    if (fault === "error500" || fault === "error503" || fault === "throttle") throw faultError(fault);
    const key = this.authenticate(req, body);
    const input = parseInput(body);
    this.authorize(key, operation, input);
    // A write refused by the service changes nothing, so reads keep whatever view they had.
    const write = this.writeSnapshot(operation, input);
    const output = run(this.stateFor(operation), input);
    this.state.wrote(write);
    if (fault === "dropAfter") {
      req.socket.destroy();
      return "dropped after commit (fault)";
    }
    send(res, 200, output);
    return "200";
  }

  /** The state an operation runs on: a possibly stale view for reads, the latest state for writes. */
  private stateFor(operation: string): SecretStoreState {
    const windowMs = this.faults.staleReadMs;
    if (windowMs <= 0 || !READS.has(operation)) return this.state;
    return this.state.readView((age) => this.faults.staleRead(age), windowMs);
  }

  /** Under stale reads, the written secret's state before a write, to serve stale reads from. */
  private writeSnapshot(operation: string, input: Input): ReturnType<SecretStoreState["snapshot"]> {
    if (this.faults.staleReadMs <= 0 || READS.has(operation)) return undefined;
    const named = typeof input.SecretId === "string" ? input.SecretId : input.Name;
    return this.state.snapshot(typeof named === "string" ? named : undefined);
  }

  private authenticate(req: IncomingMessage, body: Buffer): AwsEmulatorCredential {
    const [path = "/", query = ""] = (req.url ?? "/").split("?", 2);
    const signed = { method: req.method ?? "POST", path, query, headers: req.headers, body };
    const findKey = (id: string): AwsEmulatorCredential | undefined =>
      this.keys.find((k) => k.accessKeyId === id);
    const key = verifySigV4(signed, {
      region: this.region,
      service: "secretsmanager",
      now: Date.now(),
      findKey,
    });
    return findKey(key.accessKeyId)!;
  }

  /** A key's allow list stands in for its IAM policy; a refusal is worded as IAM words it. */
  private authorize(key: AwsEmulatorCredential, operation: string, input: Input): void {
    if (key.allow === undefined || key.allow.includes(operation)) return;
    const named =
      typeof input.SecretId === "string"
        ? input.SecretId
        : typeof input.Name === "string"
          ? input.Name
          : undefined;
    const resource = operation === "ListSecrets" ? "*" : this.state.resourceArn(named);
    const message = `User: arn:aws:iam::${this.accountId}:user/test is not authorized to perform: secretsmanager:${operation} on resource: ${resource} because no identity-based policy allows the secretsmanager:${operation} action`;
    throw new AwsError("AccessDeniedException", message, 400, {
      __type: "com.amazon.coral.service#AccessDeniedException",
      Message: message,
    });
  }
}

export async function startAwsEmulator(options: AwsEmulatorOptions = {}): Promise<AwsEmulator> {
  const region = options.region ?? "us-east-1";
  const accountId = options.accountId ?? "123456789012";
  const keys = options.credentials && options.credentials.length > 0 ? options.credentials : [randomKey()];
  const retainUnlabelledMs = options.retainUnlabelledMs ?? 86_400_000;
  const state = new SecretStoreState({ region, accountId, now: Date.now, retainUnlabelledMs });
  const faults = new FaultInjector(options.faults);
  const pipeline = new Pipeline(region, accountId, keys, state, faults);
  const logs: string[] = [];
  const log = (line: string): void => {
    logs.push(line);
    if (logs.length > MAX_LOG_LINES) logs.shift();
  };

  const server = createServer((req, res) => {
    const target = String(req.headers["x-amz-target"] ?? "");
    const operation = target.startsWith("secretsmanager.") ? target.slice("secretsmanager.".length) : "";
    const run = OPERATIONS[operation];
    const respond = async (): Promise<string> => {
      if (req.method !== "POST" || run === undefined)
        throw coralError("service", "UnknownOperationException");
      return pipeline.handle(req, res, operation, run);
    };
    respond()
      .catch((error: unknown) => {
        if (!(error instanceof AwsError)) console.error("aws emulator: unexpected failure", error);
        const failure =
          error instanceof AwsError
            ? error
            : new AwsError("InternalServiceError", "An error occurred on the server side.", 500);
        if (!res.headersSent && !res.destroyed) send(res, failure.status, failure.body);
        return `${failure.status} ${failure.type}`;
      })
      .then((outcome) => log(`${req.method} ${target || "-"} ${outcome}`));
  });
  server.listen(options.port ?? 0, options.host ?? "127.0.0.1");
  await once(server, "listening");
  const { address, port } = server.address() as AddressInfo;
  const host = address.includes(":") ? `[${address}]` : address;
  const first = keys[0]!;
  return {
    url: `http://${host}:${port}`,
    region,
    accountId,
    credentials: { accessKeyId: first.accessKeyId, secretAccessKey: first.secretAccessKey },
    logs,
    settled: async (secretId) => {
      for (;;) {
        const name = secretId === undefined ? undefined : (state.lookup(secretId)?.name ?? secretId);
        const waitMs = state.staleForMs(faults.staleReadMs, name);
        if (waitMs <= 0) return;
        // The emulator's own deadline for its stale window, not a guess: re-checked for writes meanwhile.
        await delay(waitMs);
      }
    },
    setFaults: (next) => faults.set(next),
    stop: async () => {
      const closed = once(server, "close");
      server.close();
      server.closeAllConnections();
      await closed;
    },
  };
}
