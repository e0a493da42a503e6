/**
 * The local private CA (seed 002's recipe, done in-process): a self-signed CA certificate, and client
 * certificates signed from CSRs with the seed's usr_cert profile reduced to what mTLS needs
 * (CA:false, digitalSignature (+keyEncipherment for RSA), EKU clientAuth, SKI/AKI).
 */
import { createPrivateKey } from "node:crypto";
import type { KeyType } from "../config/schema.js";
import { CertrotorError } from "../errors.js";
import { verifyCsrDetails } from "./csr.js";
import type { KeyUsage } from "./extensions.js";
import { basicConstraints, copyExtension, extKeyUsage, keyUsage } from "./extensions-write.js";
import { type Issuer, loadIssuer, NOT_BEFORE_BACKDATE_MS, randomSerial, signCertificate } from "./issue.js";

/** For a signer that keeps its CA: parse and check it once, pass it as `loaded`. */
export { type Issuer as LoadedCa, loadIssuer as loadSigningCa };
import { generateKeyPair, spkiDerOf } from "./keys.js";
import { parseName } from "./names.js";
import { bytes, x509 } from "./x509.js";

export interface CreateCaOptions {
  /** RFC 4514, e.g. "CN=Acme Issuing CA,O=Acme,C=BR". */
  subject: string;
  keyType: KeyType;
  validityMs: number;
  now?: Date;
}

export async function createCa(opts: CreateCaOptions): Promise<{ certPem: string; keyPem: string }> {
  const now = opts.now ?? new Date();
  const name = parseName(opts.subject, "CA subject");
  const { keyPem } = await generateKeyPair(opts.keyType);
  const key = createPrivateKey(keyPem);
  const spkiDer = spkiDerOf(key);
  const keyId = bytes(await new x509.PublicKey(bytes(spkiDer)).getKeyIdentifier());
  const certPem = await signCertificate(
    {
      serial: randomSerial(),
      subject: name,
      spkiDer,
      notBefore: new Date(now.getTime() - NOT_BEFORE_BACKDATE_MS),
      notAfter: new Date(now.getTime() + opts.validityMs),
      extensions: [basicConstraints(true), keyUsage(["digitalSignature", "keyCertSign", "cRLSign"])],
    },
    { name, key, keyId },
  );
  return { certPem, keyPem };
}

export interface SignClientCsrOptions {
  csrPem: string;
  caCertPem: string;
  caKeyPem: string;
  validityMs: number;
  now?: Date;
  /** caCertPem and caKeyPem already loaded (loadIssuer): a long-lived signer parses its CA key once. */
  loaded?: Issuer;
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

async function signLeaf(opts: SignClientCsrOptions, eku: "clientAuth" | "serverAuth"): Promise<string> {
  const csr = verifyCsrDetails(opts.csrPem, "CSR to sign");
  const issuer = opts.loaded ?? (await loadIssuer(opts.caCertPem, opts.caKeyPem));
  // keyEncipherment only means something for RSA key transport; RFC 5480 forbids it for EC keys.
  const usages: KeyUsage[] =
    csr.publicKey.asymmetricKeyType === "rsa"
      ? ["digitalSignature", "keyEncipherment"]
      : ["digitalSignature"];
  const extensions = [
    basicConstraints(false),
    keyUsage(usages),
    extKeyUsage([eku]),
    ...(csr.sanExtension ? [copyExtension(csr.sanExtension)] : []),
  ];
  const template = { serial: randomSerial(), subject: csr.subjectName, spkiDer: csr.spki };
  return signCertificate({ ...template, ...validity(opts), extensions }, issuer);
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
