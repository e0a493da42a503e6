/**
 * PKCS#12 reading on native crypto: checks the MAC first (a wrong passphrase is PFX_BAD_PASSPHRASE,
 * never a garbled key), then decrypts the safes (PBES2 with AES or 3DES, and the legacy PKCS#12 PBE
 * schemes) and returns the key as PKCS#8 PEM, the leaf and the rest of the certificates as a chain.
 * RSA and EC alike.
 */
import {
  createHmac,
  createPrivateKey,
  createPublicKey,
  type KeyObject,
  timingSafeEqual,
  X509Certificate,
} from "node:crypto";
import { CertrotorError } from "../errors.js";
import { children, content, DerError, expectTag, type Node, raw, readOid, readRoot, TAG } from "./der.js";
import { assertSupportedKey } from "./keys.js";
import { DIGESTS, pbeDecrypt, pkcs12Kdf, UnsupportedAlgorithm } from "./pbe.js";
import { certificatesPem, toPem } from "./pem.js";
import { P12 } from "./pkcs12.js";

export interface PfxContents {
  /** Unencrypted PKCS#8 PEM. */
  keyPem: string;
  certPem: string;
  /** The other certificates in the file, PEM, in file order; undefined when there are none. */
  chainPem: string | undefined;
}

interface Bags {
  keys: { pkcs8: Buffer; localKeyId?: Buffer }[];
  certs: { der: Buffer; localKeyId?: Buffer }[];
}

class BadPassphrase extends Error {}

function bigInt(node: Node | undefined): number {
  return Number.parseInt(content(expectTag(node, TAG.INTEGER, "an INTEGER")).toString("hex") || "0", 16);
}

function checkMac(macDataNode: Node, authSafe: Buffer, passphrase: string): void {
  const [digestInfo, saltNode, iterationsNode] = children(macDataNode);
  const [algorithm, digestNode] = children(digestInfo!);
  const dotted = readOid(children(algorithm!)[0]!);
  const digest = DIGESTS[dotted];
  if (!digest) throw new UnsupportedAlgorithm(`MAC digest ${dotted}`);
  const salt = content(expectTag(saltNode, TAG.OCTET_STRING, "a MAC salt"));
  const iterations = iterationsNode ? bigInt(iterationsNode) : 1;
  const key = pkcs12Kdf(passphrase, salt, 3, iterations, digest.size, digest);
  const expected = content(expectTag(digestNode, TAG.OCTET_STRING, "a MAC value"));
  const actual = createHmac(digest.hash, key).update(authSafe).digest();
  if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) throw new BadPassphrase();
}

function localKeyIdOf(attributes: Node | undefined): Buffer | undefined {
  for (const attribute of attributes ? children(attributes) : []) {
    const [type, values] = children(attribute);
    if (type && values && readOid(type) === P12.localKeyId) {
      const first = children(values)[0];
      if (first) return Buffer.from(content(first));
    }
  }
  return undefined;
}

function decrypt(algorithm: Node, ciphertext: Buffer, passphrase: string): Buffer {
  try {
    return pbeDecrypt(raw(algorithm), ciphertext, passphrase);
  } catch (error) {
    if (error instanceof UnsupportedAlgorithm || error instanceof DerError) throw error;
    throw new BadPassphrase(); // padding check failed: only a wrong passphrase gets here once the MAC passed or is absent
  }
}

function collectBags(safeContents: Buffer, passphrase: string, bags: Bags): void {
  for (const bag of children(readRoot(safeContents))) {
    const [typeNode, valueWrapper, attributes] = children(bag);
    const type = readOid(typeNode!);
    const value = children(expectTag(valueWrapper, 0xa0, "a bag value"))[0]!;
    const localKeyId = localKeyIdOf(attributes);
    if (type === P12.shroudedKeyBag) {
      const [algorithm, encrypted] = children(value);
      const pkcs8 = decrypt(
        algorithm!,
        content(expectTag(encrypted, TAG.OCTET_STRING, "encrypted key")),
        passphrase,
      );
      bags.keys.push({ pkcs8, ...(localKeyId ? { localKeyId } : {}) });
    } else if (type === P12.keyBag) {
      bags.keys.push({ pkcs8: Buffer.from(raw(value)), ...(localKeyId ? { localKeyId } : {}) });
    } else if (type === P12.certBag) {
      const [certType, certValue] = children(value);
      if (readOid(certType!) !== P12.x509Certificate) continue; // SDSI certs: nobody uses them
      const der = Buffer.from(content(expectTag(children(certValue!)[0], TAG.OCTET_STRING, "a certificate")));
      bags.certs.push({ der, ...(localKeyId ? { localKeyId } : {}) });
    }
  }
}

function collectSafes(authSafe: Buffer, passphrase: string): Bags {
  const bags: Bags = { keys: [], certs: [] };
  for (const contentInfo of children(readRoot(authSafe))) {
    const [typeNode, wrapped] = children(contentInfo);
    const type = readOid(typeNode!);
    const inner = children(expectTag(wrapped, 0xa0, "ContentInfo content"))[0]!;
    if (type === P12.data) {
      collectBags(content(expectTag(inner, TAG.OCTET_STRING, "data content")), passphrase, bags);
    } else if (type === P12.encryptedData) {
      const [, encryptedContentInfo] = children(inner);
      const [, algorithm, encrypted] = children(encryptedContentInfo!);
      if (!algorithm || !encrypted || encrypted.tag !== 0x80)
        throw new DerError("encryptedData without primitive content");
      collectBags(decrypt(algorithm, content(encrypted), passphrase), passphrase, bags);
    } else throw new UnsupportedAlgorithm(`safe of type ${type} (public-key privacy mode)`);
  }
  return bags;
}

function pickLeaf(bags: Bags, key: KeyObject): Bags["certs"][number] | undefined {
  const keyId = bags.keys[0]?.localKeyId;
  const byId = keyId ? bags.certs.find((cert) => cert.localKeyId?.equals(keyId)) : undefined;
  if (byId) return byId;
  const spki = createPublicKey(key).export({ type: "spki", format: "der" });
  return bags.certs.find((cert) =>
    new X509Certificate(cert.der).publicKey.export({ type: "spki", format: "der" }).equals(spki),
  );
}

function parse(pfx: Buffer, passphrase: string, where: string): PfxContents {
  const [version, authSafeInfo, macDataNode] = children(expectTag(readRoot(pfx), TAG.SEQUENCE, "a PFX"));
  if (bigInt(version) !== 3) throw new DerError("PFX version is not 3");
  const [typeNode, wrapped] = children(authSafeInfo!);
  if (readOid(typeNode!) !== P12.data) throw new UnsupportedAlgorithm("public-key integrity mode");
  const authSafe = content(
    expectTag(children(expectTag(wrapped, 0xa0, "authSafe"))[0], TAG.OCTET_STRING, "authSafe"),
  );
  if (macDataNode) checkMac(macDataNode, authSafe, passphrase);
  const bags = collectSafes(authSafe, passphrase);
  if (bags.keys.length !== 1) throw new DerError(`expected one private key, found ${bags.keys.length}`);
  const key = createPrivateKey({ key: bags.keys[0]!.pkcs8, format: "der", type: "pkcs8" });
  assertSupportedKey(key, where);
  const leaf = pickLeaf(bags, key);
  if (!leaf) throw new DerError("no certificate matches the private key");
  const rest = bags.certs.filter((cert) => cert !== leaf).map((cert) => cert.der);
  return {
    keyPem: key.export({ type: "pkcs8", format: "pem" }).toString(),
    certPem: toPem("CERTIFICATE", leaf.der),
    chainPem: rest.length > 0 ? certificatesPem(rest) : undefined,
  };
}

/** Reads a PFX. Errors: PFX_BAD_PASSPHRASE, PFX_MALFORMED, UNSUPPORTED_KEY_TYPE, each naming `where`. */
export function readPfx(pfx: Buffer, passphrase: string, where = "PFX"): PfxContents {
  try {
    return parse(pfx, passphrase, where);
  } catch (error) {
    if (error instanceof CertrotorError) throw error;
    if (error instanceof BadPassphrase) {
      throw new CertrotorError("PFX_BAD_PASSPHRASE", `${where}: the PKCS#12 passphrase is wrong`, {
        details: { where },
      });
    }
    const why =
      error instanceof UnsupportedAlgorithm ? `uses an unsupported ${error.message}` : "cannot be parsed";
    throw new CertrotorError("PFX_MALFORMED", `${where}: the PKCS#12 data ${why}`, {
      cause: error,
      details: { where },
    });
  }
}
