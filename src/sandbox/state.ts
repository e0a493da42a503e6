/**
 * The sandbox bank's CORE: credentials (client_id, client_secret, status, allowed source IPs), the
 * certificate registry, and the bindings between them. Seed 001: a credential can have up to 2 active
 * certificates, for controlled rotation; a single-slot credential has 1. A bound certificate occupies its
 * slot until it is unbound, even once expired (as a real registry would); expiry is enforced at the
 * token endpoint. Per-credential modes: `portalOnly` (only the portal binds and unbinds, the admin API
 * refuses), `maxCertificates` (1 or 2), `trustCa` (seed 002: any certificate from a trusted CA carrying
 * the credential's subject is accepted without being bound).
 *
 * Refusals are thrown as HttpError (this state only ever serves the sandbox's HTTP routes).
 * The client_secret is kept only as a SHA-256 digest and compared in constant time.
 */
import { createHash, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import {
  type CertificateInfo,
  certificatesDer,
  encodeName,
  formatName,
  inspectCertificate,
  toPem,
} from "../crypto/index.js";
import { isCertrotorError } from "../errors.js";
import { badRequest, HttpError, notFound } from "./http.js";
import { parseAllowEntry } from "./ip.js";

const MAX_ACTIVE_CERTIFICATES = 2;

export type CredentialStatus = "active" | "inactive";

/** How a credential's certificates are accepted, beside status and IPs. */
export interface CredentialModes {
  /** Certificates are bound and unbound only in the portal; the admin API refuses (default false). */
  portalOnly: boolean;
  /** Active certificates allowed at once: 2 (seed 001) or 1 (a single-slot credential). */
  maxCertificates: 1 | 2;
  /**
   * Seed 002: the bank trusts the institution's CA. A certificate that chains to a trusted CA and has
   * exactly this subject (RFC 4514) is accepted without being bound.
   */
  trustCa: { subject: string } | undefined;
}

export interface CredentialRecord extends CredentialModes {
  readonly clientId: string;
  status: CredentialStatus;
  allowedIps: string[];
  readonly createdAt: Date;
  updatedAt: Date;
}

export interface CertificateRecord {
  readonly id: string;
  /** SHA-256 of the DER, lowercase hex (as Material.fingerprint). */
  readonly fingerprint: string;
  /** SHA-256 of the DER, base64url: RFC 8705's x5t#S256. */
  readonly thumbprint: string;
  readonly pem: string;
  readonly subject: string;
  readonly issuer: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly registeredAt: Date;
}

export interface BindingView {
  readonly certificate: CertificateRecord;
  readonly boundAt: Date;
  readonly lastUsedAt: Date | undefined;
}

interface Binding {
  certificateId: string;
  boundAt: Date;
  lastUsedAt: Date | undefined;
}

/** A certificate reference as the admin API accepts it: its id, or its fingerprint (hex, colons allowed). */
export type CertificateRef = { certificateId: string } | { fingerprint: string };

const normalizeFingerprint = (text: string): string => text.replace(/:/g, "").toLowerCase();

const digest = (secret: string): Buffer => createHash("sha256").update(secret, "utf8").digest();

export class SandboxState {
  private readonly credentials = new Map<string, CredentialRecord & { secretDigest: Buffer }>();
  private readonly certificates = new Map<string, CertificateRecord>();
  private readonly byFingerprint = new Map<string, string>();
  private readonly bindings = new Map<string, Binding[]>();

  constructor(private readonly now: () => Date) {}

  /** Creates a credential; returns the client_secret (generated unless given), which is never readable again. */
  createCredential(
    input: {
      clientId?: string;
      clientSecret?: string;
      status?: CredentialStatus;
      allowedIps?: readonly string[];
    } & Partial<CredentialModes>,
  ): { credential: CredentialRecord; clientSecret: string } {
    const clientId = input.clientId ?? `sbx-${randomUUID()}`;
    if (this.credentials.has(clientId)) {
      throw new HttpError(409, "conflict", `credential "${clientId}" already exists`);
    }
    const clientSecret = input.clientSecret ?? randomBytes(32).toString("base64url");
    const at = this.now();
    const record = {
      clientId,
      secretDigest: digest(clientSecret),
      status: input.status ?? "active",
      allowedIps: canonicalIps(input.allowedIps ?? ["127.0.0.0/8", "::1"]),
      portalOnly: input.portalOnly ?? false,
      maxCertificates: input.maxCertificates ?? MAX_ACTIVE_CERTIFICATES,
      trustCa: input.trustCa ? { subject: canonicalSubject(input.trustCa.subject) } : undefined,
      createdAt: at,
      updatedAt: at,
    };
    this.credentials.set(clientId, record);
    this.bindings.set(clientId, []);
    return { credential: record, clientSecret };
  }

  credential(clientId: string): CredentialRecord | undefined {
    return this.credentials.get(clientId);
  }

  /** 404 when the credential does not exist. */
  requireCredential(clientId: string): CredentialRecord {
    const found = this.credentials.get(clientId);
    if (!found) throw new HttpError(404, "credential_not_found", `credential "${clientId}" does not exist`);
    return found;
  }

  updateCredential(
    clientId: string,
    patch: { status?: CredentialStatus; allowedIps?: readonly string[] },
  ): CredentialRecord {
    const record = this.requireCredential(clientId);
    if (patch.status !== undefined) record.status = patch.status;
    if (patch.allowedIps !== undefined) record.allowedIps = canonicalIps(patch.allowedIps);
    record.updatedAt = this.now();
    return record;
  }

  /** True only for an existing, active credential whose secret matches (seed 001: 401 Invalid Credentials otherwise). */
  secretMatches(clientId: string, clientSecret: string): boolean {
    const record = this.credentials.get(clientId);
    const presented = digest(clientSecret);
    // Compare even for an unknown id, so timing does not tell which ids exist.
    const same = timingSafeEqual(presented, record?.secretDigest ?? digest(`${clientSecret}\0`));
    return record !== undefined && same && record.status === "active";
  }

  /** Registers a PEM certificate; registering the same certificate again returns the existing record. */
  registerCertificate(pem: string): { record: CertificateRecord; created: boolean } {
    const { info, certPem } = parseCertificate(pem);
    const fingerprint = info.fingerprint;
    const existing = this.byFingerprint.get(fingerprint);
    if (existing) return { record: this.certificates.get(existing)!, created: false };
    const record: CertificateRecord = {
      id: `crt-${randomUUID()}`,
      fingerprint,
      thumbprint: Buffer.from(fingerprint, "hex").toString("base64url"),
      pem: certPem,
      subject: info.subject,
      issuer: info.issuer,
      notBefore: info.notBefore,
      notAfter: info.notAfter,
      registeredAt: this.now(),
    };
    this.certificates.set(record.id, record);
    this.byFingerprint.set(fingerprint, record.id);
    return { record, created: true };
  }

  certificate(ref: CertificateRef): CertificateRecord | undefined {
    const id =
      "certificateId" in ref
        ? ref.certificateId
        : this.byFingerprint.get(normalizeFingerprint(ref.fingerprint));
    return id === undefined ? undefined : this.certificates.get(id);
  }

  /** Binds a registered certificate; binding one already bound is a no-op. 409 past the credential's limit. */
  bind(clientId: string, ref: CertificateRef): { view: BindingView; created: boolean } {
    const record = this.requireCredential(clientId);
    const certificate = this.certificate(ref);
    if (!certificate) throw notFound(`certificate ${describeRef(ref)} is not registered`);
    const list = this.bindings.get(clientId)!;
    const existing = list.find((binding) => binding.certificateId === certificate.id);
    if (existing) return { view: this.view(existing), created: false };
    const limit = record.maxCertificates;
    if (list.length >= limit) {
      throw new HttpError(
        409,
        "slots_full",
        `credential "${clientId}" already has ${limit} active certificate${limit === 1 ? "" : "s"} (the limit); unbind one before binding another`,
      );
    }
    const binding: Binding = { certificateId: certificate.id, boundAt: this.now(), lastUsedAt: undefined };
    list.push(binding);
    return { view: this.view(binding), created: true };
  }

  /** Unbinds; false when the certificate was not bound to this credential. */
  unbind(clientId: string, ref: CertificateRef): boolean {
    this.requireCredential(clientId);
    const certificate = this.certificate(ref);
    const list = this.bindings.get(clientId)!;
    const index = certificate ? list.findIndex((binding) => binding.certificateId === certificate.id) : -1;
    if (index < 0) return false;
    list.splice(index, 1);
    return true;
  }

  boundCertificates(clientId: string): BindingView[] {
    return (this.bindings.get(clientId) ?? []).map((binding) => this.view(binding));
  }

  /** The binding of the certificate with `fingerprint` to `clientId`, if any. */
  bindingFor(clientId: string, fingerprint: string): BindingView | undefined {
    const id = this.byFingerprint.get(fingerprint);
    const binding = this.bindings.get(clientId)?.find((candidate) => candidate.certificateId === id);
    return binding ? this.view(binding) : undefined;
  }

  /**
   * Whether the certificate may authenticate `clientId`: it is bound to it, or the credential trusts the
   * CA (the chain was already verified by the caller) and the certificate carries its subject.
   */
  accepts(clientId: string, certificate: { fingerprint: string; subject: string }): boolean {
    if (this.bindingFor(clientId, certificate.fingerprint)) return true;
    const trust = this.credentials.get(clientId)?.trustCa;
    return trust !== undefined && certificate.subject === trust.subject;
  }

  /** Records that the bound certificate just obtained a token. */
  touch(clientId: string, fingerprint: string): void {
    const id = this.byFingerprint.get(fingerprint);
    const binding = this.bindings.get(clientId)?.find((candidate) => candidate.certificateId === id);
    if (binding) binding.lastUsedAt = this.now();
  }

  private view(binding: Binding): BindingView {
    return {
      certificate: this.certificates.get(binding.certificateId)!,
      boundAt: binding.boundAt,
      lastUsedAt: binding.lastUsedAt,
    };
  }
}

function canonicalIps(entries: readonly string[]): string[] {
  return entries.map((entry, index) => {
    const parsed = parseAllowEntry(entry);
    if (!parsed.ok) throw badRequest(`field "allowed_ips[${index}]": ${parsed.why}`);
    return parsed.value;
  });
}

/** The subject as the certificate inspector writes it (RFC 4514), so spacing in a seed file does not matter. */
function canonicalSubject(text: string): string {
  try {
    return formatName(encodeName(text, "trust_ca.subject"), "trust_ca.subject");
  } catch (error) {
    if (isCertrotorError(error)) throw badRequest(error.message);
    throw error;
  }
}

/** The first certificate of `pem` (a registered certificate is one leaf; a trailing chain is ignored). */
function parseCertificate(pem: string): { info: CertificateInfo; certPem: string } {
  try {
    const [der] = certificatesDer(pem, 'field "pem"');
    if (!der) throw badRequest('field "pem" must hold a PEM certificate');
    const certPem = toPem("CERTIFICATE", der);
    return { info: inspectCertificate(certPem, 'field "pem"'), certPem };
  } catch (error) {
    if (isCertrotorError(error)) throw badRequest(error.message);
    throw error;
  }
}

function describeRef(ref: CertificateRef): string {
  return "certificateId" in ref
    ? `"${ref.certificateId}"`
    : `with fingerprint ${normalizeFingerprint(ref.fingerprint)}`;
}
