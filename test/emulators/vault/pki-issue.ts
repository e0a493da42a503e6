/**
 * How Vault's PKI `sign/:role` turns a CSR into a certificate (builtin/logical/pki/cert_util.go): the
 * subject is rebuilt from the CN (plus the role's O/OU/C), never copied from the CSR; the CN is added to
 * the DNS SANs unless excluded; key usages and EKUs come from the role; the TTL is capped by the role's
 * max_ttl and may not outlive the CA. Built on certrotor's own DER writer (src/crypto).
 */
import { type KeyObject, createPrivateKey, randomBytes } from "node:crypto";
import { children, content, oid, readOid, readRoot, seq, set, TAG, tlv } from "../../../src/crypto/der.js";
import {
  authorityKeyIdentifier,
  basicConstraints,
  decodeSubjectAltName,
  EXT,
  type Extension,
  extKeyUsage,
  type KeyUsage,
  keyIdentifierOf,
  keyUsage,
  subjectAltName,
  subjectKeyIdentifier,
} from "../../../src/crypto/extensions.js";
import { issueCertificate } from "../../../src/crypto/issue.js";
import { certificateDer } from "../../../src/crypto/pem.js";
import { signerFor } from "../../../src/crypto/signature.js";
import { certificateParts } from "../../../src/crypto/structure.js";
import { verifyCsr } from "../../../src/crypto/csr.js";
import type { PkiRole } from "./pki-role.js";

export interface IssuingCa {
  certPem: string;
  key: KeyObject;
  subjectDer: Buffer;
  keyId: Buffer;
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
  const parts = certificateParts(certificateDer(certPem, "emulator CA certificate"));
  const ski = parts.extensions.find((ext) => ext.oid === EXT.subjectKeyIdentifier);
  return {
    certPem: certPem.trim(),
    key: createPrivateKey(keyPem),
    subjectDer: parts.subject,
    keyId: ski ? content(readRoot(ski.value)) : keyIdentifierOf(parts.spki),
    notAfter: parts.notAfter,
  };
}

/** Lowercase colon-separated hex of the serial's magnitude, as certutil.GetHexFormatted prints it. */
export function colonHex(bytes: Buffer): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join(":");
}

function commonNameOf(nameDer: Buffer): string | undefined {
  for (const rdn of children(readRoot(nameDer))) {
    for (const atv of children(rdn)) {
      const [type, value] = children(atv);
      if (type && value && readOid(type) === "2.5.4.3") return content(value).toString("utf8");
    }
  }
  return undefined;
}

function nameAllowed(role: PkiRole, name: string): boolean {
  if (role.allowAnyName) return true;
  if (role.allowLocalhost && (name === "localhost" || name === "localdomain")) return true;
  return role.allowedDomains.some(
    (domain) =>
      (role.allowBareDomains && name === domain) || (role.allowSubdomains && name.endsWith(`.${domain}`)),
  );
}

/** pkix.Name.ToRDNSequence order: C, O, OU, CN. */
function subjectDer(role: PkiRole, cn: string): Buffer {
  const rdn = (dotted: string, tag: number, value: string) =>
    set(seq(oid(dotted), tlv(tag, Buffer.from(value))));
  return seq(
    ...role.country.map((c) => rdn("2.5.4.6", TAG.PRINTABLE_STRING, c)),
    ...role.organization.map((o) => rdn("2.5.4.10", TAG.UTF8_STRING, o)),
    ...role.ou.map((u) => rdn("2.5.4.11", TAG.UTF8_STRING, u)),
    rdn("2.5.4.3", TAG.UTF8_STRING, cn),
  );
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

function extensionsFor(role: PkiRole, ca: IssuingCa, spki: Buffer, sans: string[]): Extension[] {
  const ekus = [...(role.serverFlag ? ["serverAuth"] : []), ...(role.clientFlag ? ["clientAuth"] : [])];
  return [
    basicConstraints(false),
    ...(role.keyUsage.length > 0 ? [keyUsage(role.keyUsage as KeyUsage[])] : []),
    ...(ekus.length > 0 ? [extKeyUsage(ekus)] : []),
    subjectKeyIdentifier(keyIdentifierOf(spki)),
    authorityKeyIdentifier(ca.keyId),
    ...(sans.length > 0 ? [subjectAltName(sans, "Vault PKI SANs")] : []),
  ];
}

/** The signed certificate, or the 400 error text Vault gives. */
export function signCsr(ca: IssuingCa, role: PkiRole, params: SignParams): Signed | string {
  let csr: ReturnType<typeof verifyCsr>;
  try {
    csr = verifyCsr(params.csr, "csr");
  } catch {
    return "certificate request could not be parsed";
  }
  const keyError = keyTypeError(role, csr.publicKey);
  if (keyError) return keyError;
  const cn = (role.useCsrCommonName ? commonNameOf(csr.subject) : undefined) ?? params.commonName;
  if (!cn) {
    return 'the common_name field is required, or must be provided in a CSR with "use_csr_common_name" set to true, unless "require_cn" is set to false';
  }
  if (role.enforceHostnames && !cn.includes("@") && !HOSTNAME.test(cn))
    return `common name ${cn} not allowed by this role`;
  if (!nameAllowed(role, cn)) return `common name ${cn} not allowed by this role`;
  const csrSanExt = csr.extensions.find((ext) => ext.oid === EXT.subjectAltName);
  const sans = sansFor(role, params, cn, csrSanExt ? decodeSubjectAltName(csrSanExt.value) : []);
  if (typeof sans === "string") return sans;
  const warnings: string[] = [];
  const now = Date.now();
  const notAfter = new Date(Math.floor((now + ttlFor(role, params, warnings) * 1000) / 1000) * 1000);
  if (notAfter > ca.notAfter) {
    return `cannot satisfy request, as TTL would result in notAfter of ${notAfter.toISOString()} that is beyond the expiration of the CA certificate at ${ca.notAfter.toISOString()}`;
  }
  const serial = randomBytes(20);
  serial[0] = serial[0]! & 0x7f || 0x01;
  const certPem = issueCertificate(
    {
      serial,
      issuerDer: ca.subjectDer,
      subjectDer: subjectDer(role, cn),
      spkiDer: csr.spki,
      notBefore: new Date(now - NOT_BEFORE_BACKDATE_MS),
      notAfter,
      extensions: extensionsFor(role, ca, csr.spki, sans),
    },
    signerFor(ca.key),
  );
  return { certPem: certPem.trim(), serialHex: colonHex(serial), notAfter, warnings };
}
