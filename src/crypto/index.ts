/**
 * certrotor's crypto core: keys, PEM, certificate inspection, CSRs, the local CA, chains and PKCS#12.
 * Everything here is native node:crypto (OpenSSL) plus a small DER writer/reader of its own.
 */
export { KEY_TYPES, type KeyType } from "../config/schema.js";
export {
  type CreateCaOptions,
  createCa,
  type SignClientCsrOptions,
  signClientCsr,
  signServerCsr,
} from "./ca.js";
export {
  type CreateCsrOptions,
  createCsr,
  createCsrFromCertificate,
  type VerifiedCsr,
  verifyCsr,
} from "./csr.js";
export { type CertificateInfo, fingerprintOf, hasClientAuth, inspectCertificate } from "./inspect.js";
export { NOT_BEFORE_BACKDATE_MS } from "./issue.js";
export { type GeneratedKeyPair, generateKeyPair, keyTypeOf, loadPrivateKey } from "./keys.js";
export { assertKeyMatchesCertificate, keyMatchesCertificate } from "./match.js";
export { encodeName, formatName } from "./names.js";
export { certificatesDer, pemBlocks, toPem } from "./pem.js";
export { verifyChain } from "./chain.js";
export { type BuildPfxOptions, buildPfx, PFX_ITERATIONS, randomPassphrase } from "./pkcs12.js";
export { type PfxContents, readPfx } from "./pkcs12-read.js";
export { assertClientCertificate, assertIssuedForCsr } from "./profile.js";
