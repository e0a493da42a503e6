/**
 * The parts of a certificate's and a CSR's DER that certrotor needs as raw byte slices (subject,
 * issuer, SPKI, extensions, the signed bytes). Throws DerError on malformed input; callers map it to
 * their coded error with a `where`.
 */
import {
  children,
  content,
  DerError,
  expectTag,
  type Node,
  raw,
  readBitString,
  readOid,
  readRoot,
  readTime,
  TAG,
} from "./der.js";
import { decodeExtensions, type Extension } from "./extensions.js";

export interface CertificateParts {
  tbs: Buffer;
  signatureAlgorithm: Buffer;
  signature: Buffer;
  serial: Buffer;
  issuer: Buffer;
  subject: Buffer;
  notBefore: Date;
  notAfter: Date;
  spki: Buffer;
  extensions: Extension[];
}

function signedParts(der: Buffer): { tbsNode: Node; algorithm: Buffer; signature: Buffer } {
  const [tbsNode, algorithm, signature] = children(expectTag(readRoot(der), TAG.SEQUENCE, "a SEQUENCE"));
  if (!tbsNode || !algorithm || !signature) throw new DerError("signed structure is incomplete");
  expectTag(tbsNode, TAG.SEQUENCE, "a to-be-signed SEQUENCE");
  return {
    tbsNode,
    algorithm: raw(expectTag(algorithm, TAG.SEQUENCE, "an AlgorithmIdentifier")),
    signature: readBitString(signature).bytes,
  };
}

export function certificateParts(der: Buffer): CertificateParts {
  const { tbsNode, algorithm, signature } = signedParts(der);
  const fields = children(tbsNode);
  let i = fields[0]?.tag === 0xa0 ? 1 : 0; // [0] version, absent for v1
  const serial = content(expectTag(fields[i++], TAG.INTEGER, "a serial number"));
  i++; // signature AlgorithmIdentifier inside the TBS
  const issuer = raw(expectTag(fields[i++], TAG.SEQUENCE, "an issuer Name"));
  const [notBefore, notAfter] = children(expectTag(fields[i++], TAG.SEQUENCE, "a Validity"));
  const subject = raw(expectTag(fields[i++], TAG.SEQUENCE, "a subject Name"));
  const spki = raw(expectTag(fields[i++], TAG.SEQUENCE, "a SubjectPublicKeyInfo"));
  const extNode = fields.slice(i).find((node) => node.tag === 0xa3);
  const extSeq = extNode ? children(extNode)[0] : undefined;
  return {
    tbs: raw(tbsNode),
    signatureAlgorithm: algorithm,
    signature,
    serial,
    issuer,
    subject,
    notBefore: readTime(notBefore!),
    notAfter: readTime(notAfter!),
    spki,
    extensions: extSeq ? decodeExtensions(raw(extSeq)) : [],
  };
}

export interface CsrParts {
  info: Buffer;
  signatureAlgorithm: Buffer;
  signature: Buffer;
  subject: Buffer;
  spki: Buffer;
  /** Extensions from the PKCS#9 extensionRequest attribute. */
  extensions: Extension[];
}

const EXTENSION_REQUEST = "1.2.840.113549.1.9.14";

export function csrParts(der: Buffer): CsrParts {
  const { tbsNode, algorithm, signature } = signedParts(der);
  const [version, subject, spki, attributes] = children(tbsNode);
  expectTag(version, TAG.INTEGER, "a CSR version");
  let extensions: Extension[] = [];
  for (const attribute of attributes && attributes.tag === 0xa0 ? children(attributes) : []) {
    const [type, values] = children(attribute);
    if (type && values && readOid(type) === EXTENSION_REQUEST) {
      const first = children(values)[0];
      if (first) extensions = decodeExtensions(raw(first));
    }
  }
  return {
    info: raw(tbsNode),
    signatureAlgorithm: algorithm,
    signature,
    subject: raw(expectTag(subject, TAG.SEQUENCE, "a subject Name")),
    spki: raw(expectTag(spki, TAG.SEQUENCE, "a SubjectPublicKeyInfo")),
    extensions,
  };
}

export const EXTENSION_REQUEST_OID = EXTENSION_REQUEST;
