/**
 * certrotor's crypto core: keys, PEM, certificate inspection, CSRs, the local CA, chains and PKCS#12.
 * Keys and signatures are native node:crypto (OpenSSL, WebCrypto); X.509 and CSR structures are
 * @peculiar/x509's; PKCS#12 is der.ts + node:crypto (node-forge only for legacy PBE, loaded on demand).
 */
export { KEY_TYPES, type KeyType } from "../config/schema.js";
export { createCa, signClientCsr, signServerCsr } from "./ca.js";
export {
  createCsr,
  createCsrFromCertificate,
  type VerifiedCsr,
  verifyCsr,
} from "./csr.js";
export { type ClientMaterialFields, checkClientMaterial } from "./client-material.js";
export { type CertificateInfo, fingerprintOf, hasClientAuth, inspectCertificate } from "./inspect.js";
export type { KeyUsage } from "./extensions.js";
export { issueCertificate, NOT_BEFORE_BACKDATE_MS } from "./issue.js";
export { generateKeyPair, keyTypeOf, loadPrivateKey } from "./keys.js";
export { assertKeyMatchesCertificate, keyMatchesCertificate } from "./match.js";
export { encodeName, formatName } from "./names.js";
export { certificatesDer, toPem } from "./pem.js";
export { verifyChain } from "./chain.js";
export { buildPfx, randomPassphrase } from "./pkcs12.js";
export { type PfxKeysAhead, pfxKeysAhead } from "./pkcs12-keys.js";
export { readPfx } from "./pkcs12-read.js";
export { assertClientCertificate, assertIssuedForCsr } from "./profile.js";
