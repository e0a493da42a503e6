/**
 * Certificate signing requests (PKCS#10). The subject and SAN extension are written from raw bytes, so
 * a CSR made from an existing certificate carries that certificate's subject DER and SANs unchanged:
 * every RDN in order, string types and unusual attributes (UID, serialNumber, ICP-Brasil OIDs) included.
 */
import { createPublicKey, type KeyObject } from "node:crypto";
import { CertrotorError } from "../errors.js";
import { bitString, DerError, explicit, int, oid, readRoot, seq, set } from "./der.js";
import { EXT, encodeExtension, type Extension, subjectAltName } from "./extensions.js";
import { assertSupportedKey, privateKeyObject, spkiDerOf } from "./keys.js";
import { encodeName } from "./names.js";
import { certificateDer, CSR_LABELS, expectBlock, toPem } from "./pem.js";
import { signerFor, verifySignature } from "./signature.js";
import { certificateParts, type CsrParts, csrParts, EXTENSION_REQUEST_OID } from "./structure.js";

export interface CreateCsrOptions {
  keyPem: string;
  /** RFC 4514 text, or the DER of a Name copied byte for byte. */
  subject: string | Buffer;
  /** "dns:x", "ip:1.2.3.4", "email:a@b", "uri:...". */
  sans?: string[];
}

function csrPem(key: KeyObject, subjectDer: Buffer, extensions: readonly Extension[]): string {
  const attributes =
    extensions.length === 0
      ? explicit(0)
      : explicit(0, seq(oid(EXTENSION_REQUEST_OID), set(seq(...extensions.map(encodeExtension)))));
  const info = seq(int(0), subjectDer, spkiDerOf(key), attributes);
  const signer = signerFor(key);
  return toPem("CERTIFICATE REQUEST", seq(info, signer.algorithm, bitString(signer.sign(info))));
}

function subjectDerOf(subject: string | Buffer): Buffer {
  if (typeof subject === "string") return encodeName(subject, "CSR subject");
  try {
    readRoot(subject);
    return subject;
  } catch (error) {
    throw new CertrotorError("BAD_ARGUMENT", "CSR subject: the Name DER is malformed", { cause: error });
  }
}

export async function createCsr(opts: CreateCsrOptions): Promise<string> {
  const key = privateKeyObject(opts.keyPem, "CSR key");
  const extensions = opts.sans && opts.sans.length > 0 ? [subjectAltName(opts.sans, "CSR sans")] : [];
  return csrPem(key, subjectDerOf(opts.subject), extensions);
}

/** A CSR for `keyPem` with the certificate's subject DER and SAN extension copied byte for byte. */
export async function createCsrFromCertificate(certPem: string, keyPem: string): Promise<string> {
  const where = "source certificate";
  let parts: ReturnType<typeof certificateParts>;
  try {
    parts = certificateParts(certificateDer(certPem, where));
  } catch (error) {
    if (!(error instanceof DerError)) throw error;
    throw new CertrotorError("PEM_MALFORMED", `${where}: the certificate cannot be parsed as X.509`, {
      cause: error,
    });
  }
  const san = parts.extensions.find((ext) => ext.oid === EXT.subjectAltName);
  return csrPem(privateKeyObject(keyPem, "CSR key"), parts.subject, san ? [san] : []);
}

export interface VerifiedCsr extends CsrParts {
  publicKey: KeyObject;
}

/** Parses `csrPem` and checks its self-signature; CSR_INVALID (or PEM_*) naming `where` otherwise. */
export function verifyCsr(csrPem: string, where = "CSR"): VerifiedCsr {
  const block = expectBlock(csrPem, CSR_LABELS, "a certificate signing request", where);
  const invalid = (why: string, cause?: unknown): CertrotorError =>
    new CertrotorError("CSR_INVALID", `${where}: ${why}`, { cause, details: { where } });
  let parts: CsrParts;
  let publicKey: KeyObject;
  try {
    parts = csrParts(block.der);
    publicKey = createPublicKey({ key: parts.spki, format: "der", type: "spki" });
  } catch (error) {
    throw invalid("the CSR cannot be parsed", error);
  }
  assertSupportedKey(publicKey, where);
  let result: { ok: boolean; unsupported?: string };
  try {
    result = verifySignature(parts.signatureAlgorithm, parts.info, publicKey, parts.signature);
  } catch (error) {
    throw invalid("the CSR signature cannot be checked", error);
  }
  if (result.unsupported) throw invalid(`unsupported ${result.unsupported}`);
  if (!result.ok) throw invalid("the CSR signature does not verify with its own public key");
  return { ...parts, publicKey };
}
