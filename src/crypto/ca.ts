/**
 * The local private CA (seed 002's recipe, done in-process): a self-signed CA certificate, and client
 * certificates signed from CSRs with the seed's usr_cert profile reduced to what mTLS needs
 * (CA:false, digitalSignature (+keyEncipherment for RSA), EKU clientAuth, SKI/AKI).
 */
import { createPrivateKey } from "node:crypto";
import type { KeyType } from "../config/schema.js";
import { CertrotorError } from "../errors.js";
import { verifyCsr } from "./csr.js";
import { content, readRoot } from "./der.js";
import {
  authorityKeyIdentifier,
  basicConstraints,
  decodeBasicConstraints,
  EXT,
  type Extension,
  extKeyUsage,
  type KeyUsage,
  keyIdentifierOf,
  keyUsage,
  subjectKeyIdentifier,
} from "./extensions.js";
import { parseCertificateDer } from "./inspect.js";
import { issueCertificate, NOT_BEFORE_BACKDATE_MS, randomSerial } from "./issue.js";
import { generateKeyPair, privateKeyObject, spkiDerOf } from "./keys.js";
import { assertKeyMatchesCertificate } from "./match.js";
import { encodeName } from "./names.js";
import { certificateDer } from "./pem.js";
import { signerFor } from "./signature.js";

export interface CreateCaOptions {
  /** RFC 4514, e.g. "CN=Acme Issuing CA,O=Acme,C=BR". */
  subject: string;
  keyType: KeyType;
  validityMs: number;
  now?: Date;
}

export async function createCa(opts: CreateCaOptions): Promise<{ certPem: string; keyPem: string }> {
  const now = opts.now ?? new Date();
  const subjectDer = encodeName(opts.subject, "CA subject");
  const { keyPem } = await generateKeyPair(opts.keyType);
  const key = createPrivateKey(keyPem);
  const spkiDer = spkiDerOf(key);
  const keyId = keyIdentifierOf(spkiDer);
  const certPem = issueCertificate(
    {
      serial: randomSerial(),
      issuerDer: subjectDer,
      subjectDer,
      spkiDer,
      notBefore: new Date(now.getTime() - NOT_BEFORE_BACKDATE_MS),
      notAfter: new Date(now.getTime() + opts.validityMs),
      extensions: [
        basicConstraints(true),
        keyUsage(["digitalSignature", "keyCertSign", "cRLSign"]),
        subjectKeyIdentifier(keyId),
        authorityKeyIdentifier(keyId),
      ],
    },
    signerFor(key),
  );
  return { certPem, keyPem };
}

export interface SignClientCsrOptions {
  csrPem: string;
  caCertPem: string;
  caKeyPem: string;
  validityMs: number;
  now?: Date;
  /** Explicit window (tests make expired or nearly expiring certs); overrides now/validityMs. */
  notBefore?: Date;
  notAfter?: Date;
}

function validity(opts: SignClientCsrOptions): { notBefore: Date; notAfter: Date } {
  const now = opts.now ?? new Date();
  const notBefore = opts.notBefore ?? new Date(now.getTime() - NOT_BEFORE_BACKDATE_MS);
  const notAfter = opts.notAfter ?? new Date(now.getTime() + opts.validityMs);
  if (notAfter.getTime() <= notBefore.getTime()) {
    throw new CertrotorError("BAD_ARGUMENT", "client certificate validity: notAfter is not after notBefore");
  }
  return { notBefore, notAfter };
}

function signLeaf(opts: SignClientCsrOptions, eku: "clientAuth" | "serverAuth"): string {
  const csr = verifyCsr(opts.csrPem, "CSR to sign");
  const caKey = privateKeyObject(opts.caKeyPem, "issuing CA key");
  const where = "issuing CA certificate";
  const { parts: ca } = parseCertificateDer(certificateDer(opts.caCertPem, where), where);
  assertKeyMatchesCertificate(opts.caKeyPem, opts.caCertPem, "issuing CA");
  const bc = ca.extensions.find((ext) => ext.oid === EXT.basicConstraints);
  if (!bc || !decodeBasicConstraints(bc.value).ca) {
    throw new CertrotorError(
      "CERT_INVALID",
      `${where}: the issuing certificate is not a CA (basicConstraints CA:true)`,
    );
  }
  const caKeyId = ca.extensions.find((ext) => ext.oid === EXT.subjectKeyIdentifier);
  const authorityKeyId = caKeyId ? content(readRoot(caKeyId.value)) : keyIdentifierOf(ca.spki);
  // keyEncipherment only means something for RSA key transport; RFC 5480 forbids it for EC keys.
  const usages: KeyUsage[] =
    csr.publicKey.asymmetricKeyType === "rsa"
      ? ["digitalSignature", "keyEncipherment"]
      : ["digitalSignature"];
  const san = csr.extensions.find((ext) => ext.oid === EXT.subjectAltName);
  const extensions: Extension[] = [
    basicConstraints(false),
    keyUsage(usages),
    extKeyUsage([eku]),
    subjectKeyIdentifier(keyIdentifierOf(csr.spki)),
    authorityKeyIdentifier(authorityKeyId),
    ...(san ? [san] : []),
  ];
  const template = {
    serial: randomSerial(),
    issuerDer: ca.subject,
    subjectDer: csr.subject,
    spkiDer: csr.spki,
  };
  return issueCertificate({ ...template, ...validity(opts), extensions }, signerFor(caKey));
}

/**
 * Signs a client certificate (EKU clientAuth) for the CSR after checking the CSR's signature
 * (CSR_INVALID otherwise). Subject and SAN extension are copied from the CSR byte for byte.
 */
export async function signClientCsr(opts: SignClientCsrOptions): Promise<string> {
  return signLeaf(opts, "clientAuth");
}

/** The same for a TLS server certificate (EKU serverAuth): the bank sandbox and tests need one. */
export async function signServerCsr(opts: SignClientCsrOptions): Promise<string> {
  return signLeaf(opts, "serverAuth");
}
