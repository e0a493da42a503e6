/**
 * How Vault's PKI `sign/:role` turns a CSR into a certificate (builtin/logical/pki/cert_util.go): the
 * subject is rebuilt from the CN (plus the role's O/OU/C), never copied from the CSR; the CN is added to
 * the DNS SANs unless excluded; key usages and EKUs come from the role; the TTL is capped by the role's
 * max_ttl and may not outlive the CA. Built on the crypto core's public API (src/crypto).
 */
import { type KeyObject, randomBytes } from "node:crypto";
import {
  inspectCertificate,
  issueCertificate,
  type KeyUsage,
  type VerifiedCsr,
  verifyCsr,
} from "../../../src/crypto/index.js";
import type { PkiRole } from "./pki-role.js";

export interface IssuingCa {
  certPem: string;
  keyPem: string;
  notAfter: Date;
}

export interface SignParams {
  csr: string;
  commonName?: string;
  altNames: string[];
  ipSans: string[];
  ttlSeconds?: number;
  excludeCnFromSans: boolean;
}

export interface Signed {
  certPem: string;
  serialHex: string;
  notAfter: Date;
  warnings: string[];
}

/** Vault's mount default and maximum lease: 768h. */
const MOUNT_MAX_TTL = 768 * 3600;
/** `not_before_duration` default: certificates are backdated 30 s. */
const NOT_BEFORE_BACKDATE_MS = 30_000;
const HOSTNAME =
  /^(\*\.)?([A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*\.?$/;

export function loadIssuingCa(certPem: string, keyPem: string): IssuingCa {
  const { notAfter } = inspectCertificate(certPem, "emulator CA certificate");
  return { certPem: certPem.trim(), keyPem, notAfter };
}

/** Lowercase colon-separated hex of the serial's magnitude, as certutil.GetHexFormatted prints it. */
export function colonHex(bytes: Buffer): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join(":");
}

function nameAllowed(role: PkiRole, name: string): boolean {
  if (role.allowAnyName) return true;
  if (role.allowLocalhost && (name === "localhost" || name === "localdomain")) return true;
  return role.allowedDomains.some(
    (domain) =>
      (role.allowBareDomains && name === domain) || (role.allowSubdomains && name.endsWith(`.${domain}`)),
  );
}

/** RFC 4514 §2.4 escaping of an attribute value. */
function escapeValue(value: string): string {
  return value
    .replace(/[\\,+"<>;]/g, (c) => `\\${c}`)
    .replace(/^[ #]/, (c) => `\\${c}`)
    .replace(/ $/, "\\ ");
}

/** pkix.Name.ToRDNSequence order: C, O, OU, CN (RFC 4514 text lists them the other way round). */
function subjectOf(role: PkiRole, cn: string): string {
  const rdns = [
    ...role.country.map((c) => `C=${escapeValue(c)}`),
    ...role.organization.map((o) => `O=${escapeValue(o)}`),
    ...role.ou.map((u) => `OU=${escapeValue(u)}`),
    `CN=${escapeValue(cn)}`,
  ];
  return rdns.reverse().join(",");
}

function keyTypeError(role: PkiRole, key: KeyObject): string | undefined {
  if (role.keyType === "any") return undefined;
  const actual = key.asymmetricKeyType === "rsa" ? "rsa" : key.asymmetricKeyType === "ec" ? "ec" : "other";
  return actual === role.keyType ? undefined : `role requires keys of type ${role.keyType}`;
}

function sansFor(role: PkiRole, params: SignParams, cn: string, csrSans: string[]): string[] | string {
  const names = new Set<string>();
  if (!params.excludeCnFromSans) names.add(cn.includes("@") ? `email:${cn}` : `dns:${cn}`);
  if (role.useCsrSans) for (const san of csrSans) names.add(san);
  for (const alt of params.altNames) names.add(alt.includes("@") ? `email:${alt}` : `dns:${alt}`);
  for (const ip of params.ipSans) names.add(`ip:${ip}`);
  for (const san of names) {
    const value = san.slice(san.indexOf(":") + 1);
    if (san.startsWith("dns:") && value !== cn && !nameAllowed(role, value)) {
      return `subject alternate name ${value} not allowed by this role`;
    }
  }
  return [...names];
}

function ttlFor(role: PkiRole, params: SignParams, warnings: string[]): number {
  const max = role.maxTtl > 0 ? role.maxTtl : MOUNT_MAX_TTL;
  const wanted = params.ttlSeconds ?? (role.ttl > 0 ? role.ttl : MOUNT_MAX_TTL);
  if (wanted > max) {
    warnings.push(
      `TTL "${wanted}s" is longer than permitted maxTTL "${max}s", so we are truncating to maxTTL`,
    );
    return max;
  }
  return wanted;
}

function extKeyUsagesFor(role: PkiRole): string[] {
  return [...(role.serverFlag ? ["serverAuth"] : []), ...(role.clientFlag ? ["clientAuth"] : [])];
}

/** The signed certificate, or the 400 error text Vault gives. */
export async function signCsr(ca: IssuingCa, role: PkiRole, params: SignParams): Promise<Signed | string> {
  let csr: VerifiedCsr;
  try {
    csr = verifyCsr(params.csr, "csr");
  } catch {
    return "certificate request could not be parsed";
  }
  const keyError = keyTypeError(role, csr.publicKey);
  if (keyError) return keyError;
  const cn = (role.useCsrCommonName ? csr.commonName : undefined) ?? params.commonName;
  if (!cn) {
    return 'the common_name field is required, or must be provided in a CSR with "use_csr_common_name" set to true, unless "require_cn" is set to false';
  }
  if (role.enforceHostnames && !cn.includes("@") && !HOSTNAME.test(cn))
    return `common name ${cn} not allowed by this role`;
  if (!nameAllowed(role, cn)) return `common name ${cn} not allowed by this role`;
  const sans = sansFor(role, params, cn, csr.sans);
  if (typeof sans === "string") return sans;
  const warnings: string[] = [];
  const now = Date.now();
  const notAfter = new Date(Math.floor((now + ttlFor(role, params, warnings) * 1000) / 1000) * 1000);
  if (notAfter > ca.notAfter) {
    return `cannot satisfy request, as TTL would result in notAfter of ${notAfter.toISOString()} that is beyond the expiration of the CA certificate at ${ca.notAfter.toISOString()}`;
  }
  const serial = randomBytes(20);
  serial[0] = serial[0]! & 0x7f || 0x01;
  const certPem = await issueCertificate({
    subject: subjectOf(role, cn),
    publicKey: csr.publicKey,
    issuer: ca,
    serial,
    notBefore: new Date(now - NOT_BEFORE_BACKDATE_MS),
    notAfter,
    keyUsage: role.keyUsage as KeyUsage[],
    extKeyUsage: extKeyUsagesFor(role),
    sans,
  });
  return { certPem: certPem.trim(), serialHex: colonHex(serial), notAfter, warnings };
}
