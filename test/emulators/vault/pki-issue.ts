/**
 * How Vault's PKI `sign/:role` turns a CSR into a certificate (builtin/logical/pki/issuing/issue_common.go
 * GenerateCreationBundle and GetCertificateNotAfter): the subject is rebuilt from the CN (plus the role's
 * O/OU/C), never copied from the CSR; the names follow pki-names.ts (the CN becomes a DNS SAN only when it is a
 * hostname); key usages and EKUs come from the role; the TTL is capped by the role's max_ttl and may not
 * outlive the CA. Built on the crypto core's public API (src/crypto).
 */
import { type KeyObject, randomBytes } from "node:crypto";
import {
  inspectCertificate,
  issueCertificate,
  type KeyUsage,
  type VerifiedCsr,
  verifyCsr,
} from "../../../src/crypto/index.js";
import { firstRefusedName, hostnameSan, refusedCommonName } from "./pki-names.js";
import type { PkiRole } from "./pki-role.js";
import { goDuration, rfc3339Nano } from "./time.js";

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

export function loadIssuingCa(certPem: string, keyPem: string): IssuingCa {
  const { notAfter } = inspectCertificate(certPem, "emulator CA certificate");
  return { certPem: certPem.trim(), keyPem, notAfter };
}

/** Lowercase colon-separated hex of the serial's magnitude, as certutil.GetHexFormatted prints it. */
export function colonHex(bytes: Buffer): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join(":");
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
    ...(cn === "" ? [] : [`CN=${escapeValue(cn)}`]),
  ];
  return rdns.reverse().join(",");
}

function keyTypeError(role: PkiRole, key: KeyObject): string | undefined {
  if (role.keyType === "any") return undefined;
  const actual = key.asymmetricKeyType === "rsa" ? "rsa" : key.asymmetricKeyType === "ec" ? "ec" : "other";
  return actual === role.keyType ? undefined : `role requires keys of type ${role.keyType}`;
}

/** The SANs of the certificate ("dns:", "email:", "ip:"), or the 400 text Vault gives. */
function sansFor(
  role: PkiRole,
  params: SignParams,
  cn: string | undefined,
  csr: VerifiedCsr,
): string[] | string {
  const fromCsr = (kind: string) =>
    role.useCsrSans
      ? csr.sans.filter((san) => san.startsWith(`${kind}:`)).map((san) => san.slice(kind.length + 1))
      : [];
  const dns = fromCsr("dns");
  const emails = fromCsr("email");
  if (cn && !params.excludeCnFromSans) {
    if (cn.includes("@")) emails.push(cn);
    else {
      const named = hostnameSan(cn);
      if ("error" in named) return named.error;
      if (named.san !== undefined) dns.push(named.san);
    }
  }
  if (!role.useCsrSans) {
    for (const alt of params.altNames) {
      if (alt.includes("@")) {
        emails.push(alt);
        continue;
      }
      const named = hostnameSan(alt);
      if ("error" in named) return named.error;
      if (named.san === undefined) {
        return `subject alternate name ${alt} is not a valid DNS name and cannot be included as a SAN`;
      }
      dns.push(named.san);
    }
  }
  // The CN is checked even when it is excluded from the SANs.
  const badCn = cn ? refusedCommonName(role, cn) : undefined;
  if (badCn !== undefined) return `common name ${badCn} not allowed by this role`;
  const badDns = firstRefusedName(role, dns);
  if (badDns !== undefined) return `subject alternate name ${badDns} not allowed by this role`;
  const badEmail = firstRefusedName(role, emails);
  if (badEmail !== undefined) return `email address ${badEmail} not allowed by this role`;
  const ips = role.useCsrSans ? fromCsr("ip") : params.ipSans;
  if (ips.length > 0 && !role.allowIpSans) {
    return role.useCsrSans
      ? "IP Subject Alternative Names are not allowed in this role, but was provided some via CSR"
      : `IP Subject Alternative Names are not allowed in this role, but was provided ${ips.join(" ")}`;
  }
  const unique = (items: string[]) => [...new Set(items)];
  return [
    ...unique(dns).map((name) => `dns:${name}`),
    ...unique(emails).map((name) => `email:${name}`),
    ...ips.map((ip) => `ip:${ip}`),
  ];
}

/** GetCertificateNotAfter: the TTL in seconds, with Vault's warning when max_ttl caps it. */
function ttlFor(role: PkiRole, params: SignParams, warnings: string[]): number {
  const max = role.maxTtl > 0 ? role.maxTtl : MOUNT_MAX_TTL;
  const wanted = params.ttlSeconds || (role.ttl > 0 ? role.ttl : MOUNT_MAX_TTL);
  if (wanted > max) {
    // fmt.Sprintf("TTL %q is longer than permitted maxTTL %q, so maxTTL is being used", ttl, maxTTL) with
    // time.Duration values: `TTL "2000h0m0s" is longer than permitted maxTTL "720h0m0s", ...`.
    warnings.push(
      `TTL "${goDuration(wanted)}" is longer than permitted maxTTL "${goDuration(max)}", so maxTTL is being used`,
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
  const cn = (role.useCsrCommonName ? csr.commonName : undefined) || params.commonName || undefined;
  if (!cn && role.requireCn) {
    return 'the common_name field is required, or must be provided in a CSR with "use_csr_common_name" set to true, unless "require_cn" is set to false';
  }
  const sans = sansFor(role, params, cn, csr);
  if (typeof sans === "string") return sans;
  const warnings: string[] = [];
  const now = Date.now();
  const notAfter = new Date(Math.floor((now + ttlFor(role, params, warnings) * 1000) / 1000) * 1000);
  if (notAfter > ca.notAfter) {
    // ApplyIssuerLeafNotAfterBehavior (leaf_not_after_behavior "err"), times as time.RFC3339Nano in UTC.
    const at = (date: Date) => rfc3339Nano(BigInt(date.getTime()) * 1_000_000n);
    return `cannot satisfy request, as TTL would result in notAfter of ${at(notAfter)} that is beyond the expiration of the CA certificate at ${at(ca.notAfter)}`;
  }
  const serial = randomBytes(20);
  serial[0] = serial[0]! & 0x7f || 0x01;
  const certPem = await issueCertificate({
    subject: subjectOf(role, cn ?? ""),
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
