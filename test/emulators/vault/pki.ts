/**
 * The PKI secrets engine at `pki/` (api-docs/secret/pki): a root CA generated at start, roles, `sign/:role`
 * (and `issuer/:ref/sign/:role`) with Vault's response shape, and the unauthenticated CA and cert reads.
 */
import type { KeyType } from "../../../src/config/schema.js";
import { createCa, createCsr, generateKeyPair } from "../../../src/crypto/index.js";
import type { Engine, EngineRequest, Operation } from "./engine.js";
import { type Reply, fail, noContent, notFound, ok } from "./envelope.js";
import { type IssuingCa, loadIssuingCa, signCsr } from "./pki-issue.js";
import { type PkiRole, parseRole, roleView } from "./pki-role.js";
import { parseDurationSeconds } from "./time.js";

const MOUNT_TYPE = "pki";

/** A comma-separated string (or an array) of names. */
function commaList(raw: unknown): string[] {
  const items = Array.isArray(raw) ? raw.map(String) : typeof raw === "string" ? raw.split(",") : [];
  return items.map((item) => item.trim()).filter(Boolean);
}
const UNAUTHENTICATED = [/^cert\/[^/]+$/, /^ca\/pem$/, /^ca$/, /^ca_chain$/, /^cert\/ca_chain$/];

export class PkiEngine implements Engine {
  readonly type = MOUNT_TYPE;
  readonly options = null;
  readonly description = "";
  private readonly roles = new Map<string, PkiRole>();
  private readonly issued = new Map<string, string>();
  readonly counters = { signed: 0 };

  private constructor(private readonly ca: IssuingCa) {}

  static async create(options: { keyType?: KeyType; commonName?: string } = {}): Promise<PkiEngine> {
    const { certPem, keyPem } = await createCa({
      subject: `CN=${options.commonName ?? "Vault Emulator Root CA"}`,
      keyType: options.keyType ?? "p256",
      validityMs: 10 * 365 * 86_400_000,
    });
    return new PkiEngine(loadIssuingCa(certPem, keyPem));
  }

  /** A server certificate for the emulator's own HTTPS listener, issued by this CA. */
  async serverCertificate(hostname: string, ips: string[]): Promise<{ certPem: string; keyPem: string }> {
    const { keyPem } = await generateKeyPair("p256");
    const csr = await createCsr({ keyPem, subject: `CN=${hostname}` });
    const role = parseRole({
      allow_any_name: true,
      key_type: "any",
      client_flag: false,
      use_csr_sans: false,
      max_ttl: "768h",
    });
    if (typeof role === "string") throw new Error(role);
    const signed = await signCsr(this.ca, role, { csr, altNames: [], ipSans: ips, excludeCnFromSans: false });
    if (typeof signed === "string") throw new Error(signed);
    return { certPem: `${signed.certPem}\n`, keyPem };
  }

  /** The CA certificate, PEM (as `pki/ca/pem` serves it). */
  get caPem(): string {
    return this.ca.certPem;
  }

  writeOperation(path: string): "create" | "update" {
    const role = /^roles\/(.+)$/.exec(path);
    return role && !this.roles.has(role[1]!) ? "create" : "update";
  }

  isUnauthenticated(operation: Operation, path: string): boolean {
    return operation === "read" && UNAUTHENTICATED.some((pattern) => pattern.test(path));
  }

  handle(request: EngineRequest): Reply | Promise<Reply> {
    const { operation: op, path } = request;
    const write = op === "create" || op === "update";
    const role = /^roles\/([^/]+)$/.exec(path);
    if (role) return this.role(op, role[1]!, request.data);
    if (path === "roles/" && op === "list") return this.list([...this.roles.keys()]);
    if (path === "certs/" && op === "list")
      return this.list([...this.issued.keys()].map((s) => s.replaceAll(":", "-")));
    const sign = /^(?:issuer\/[^/]+\/)?sign\/([^/]+)$/.exec(path);
    if (sign && write) return this.sign(sign[1]!, request.data);
    if (op === "read") return this.read(path);
    return fail(404, "unsupported path");
  }

  private list(keys: string[]): Reply {
    return keys.length === 0 ? notFound() : ok({ keys: keys.sort() }, { mountType: MOUNT_TYPE });
  }

  private role(op: Operation, name: string, data: Record<string, unknown>): Reply {
    if (op === "read") {
      const role = this.roles.get(name);
      return role ? ok(roleView(role), { mountType: MOUNT_TYPE }) : notFound();
    }
    if (op === "delete") {
      this.roles.delete(name);
      return noContent();
    }
    if (op !== "create" && op !== "update") return fail(405, "unsupported operation");
    const role = parseRole(data);
    if (typeof role === "string") return fail(400, role);
    this.roles.set(name, role);
    // Vault ≥ 1.13 answers a role write with the role.
    return ok(roleView(role), { mountType: MOUNT_TYPE });
  }

  private async sign(roleName: string, data: Record<string, unknown>): Promise<Reply> {
    const role = this.roles.get(roleName);
    if (!role) return fail(400, `unknown role: ${roleName}`);
    const format = data.format === undefined ? "pem" : String(data.format);
    if (format !== "pem" && format !== "der" && format !== "pem_bundle") {
      return fail(400, 'the "format" path parameter must be "pem", "der", or "pem_bundle"');
    }
    if (typeof data.csr !== "string" || data.csr.trim() === "")
      return fail(400, "certificate request could not be parsed");
    const ttlSeconds = data.ttl === undefined ? undefined : parseDurationSeconds(data.ttl);
    const signed = await signCsr(this.ca, role, {
      csr: data.csr,
      commonName: typeof data.common_name === "string" ? data.common_name : undefined,
      altNames: commaList(data.alt_names),
      ipSans: commaList(data.ip_sans),
      ttlSeconds,
      excludeCnFromSans: data.exclude_cn_from_sans === true,
    });
    if (typeof signed === "string") return fail(400, signed);
    this.issued.set(signed.serialHex, signed.certPem);
    this.counters.signed++;
    const der = (pem: string) =>
      Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ""), "base64").toString("base64");
    const encode = format === "der" ? der : (pem: string) => pem;
    const certificate =
      format === "pem_bundle" ? `${signed.certPem}\n${this.ca.certPem}` : encode(signed.certPem);
    return ok(
      {
        ca_chain: [encode(this.ca.certPem)],
        certificate,
        expiration: Math.floor(signed.notAfter.getTime() / 1000),
        issuing_ca: encode(this.ca.certPem),
        serial_number: signed.serialHex,
      },
      { mountType: MOUNT_TYPE, warnings: signed.warnings },
    );
  }

  private read(path: string): Reply {
    if (path === "ca/pem" || path === "ca_chain" || path === "cert/ca_chain") {
      return {
        status: 200,
        raw: { data: this.ca.certPem, contentType: "application/pem-certificate-chain" },
      };
    }
    if (path === "ca") {
      const der = Buffer.from(this.ca.certPem.replace(/-----[^-]+-----|\s/g, ""), "base64");
      return { status: 200, raw: { data: der, contentType: "application/pkix-cert" } };
    }
    const cert = /^cert\/([^/]+)$/.exec(path);
    if (!cert) return fail(404, "unsupported path");
    const serial = cert[1]!.replaceAll("-", ":").toLowerCase();
    const pem = serial === "ca" ? this.ca.certPem : this.issued.get(serial);
    if (!pem) return notFound();
    return ok(
      { certificate: pem, revocation_time: 0, revocation_time_rfc3339: "" },
      { mountType: MOUNT_TYPE },
    );
  }
}
