/** Assembles and signs an X.509 v3 certificate from raw parts (shared by the CA's self-signed cert and client certs). */
import { randomBytes } from "node:crypto";
import { bitString, explicit, int, seq, time, uintBytes } from "./der.js";
import { encodeExtension, type Extension } from "./extensions.js";
import { toPem } from "./pem.js";
import type { Signer } from "./signature.js";

/** CAs backdate notBefore a little so a relying party whose clock lags accepts a fresh cert at once. */
export const NOT_BEFORE_BACKDATE_MS = 5 * 60_000;

/** A random positive 128-bit serial (RFC 5280 allows 20 octets; CA/B Forum asks for ≥ 64 random bits). */
export function randomSerial(): Buffer {
  const bytes = randomBytes(16);
  if (bytes[0] === 0) bytes[0] = 1; // keeps the full 16 octets, so the DER is minimal and the size fixed
  return bytes;
}

export interface CertificateTemplate {
  serial: Buffer;
  issuerDer: Buffer;
  subjectDer: Buffer;
  spkiDer: Buffer;
  notBefore: Date;
  notAfter: Date;
  extensions: readonly Extension[];
}

export function issueCertificate(template: CertificateTemplate, signer: Signer): string {
  const tbs = seq(
    explicit(0, int(2)), // v3
    uintBytes(template.serial),
    signer.algorithm,
    template.issuerDer,
    seq(time(template.notBefore), time(template.notAfter)),
    template.subjectDer,
    template.spkiDer,
    explicit(3, seq(...template.extensions.map(encodeExtension))),
  );
  return toPem("CERTIFICATE", seq(tbs, signer.algorithm, bitString(signer.sign(tbs))));
}
