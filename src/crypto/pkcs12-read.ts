/**
 * PKCS#12 reading on node:crypto: checks the MAC first (a wrong passphrase is PFX_BAD_PASSPHRASE, never a
 * garbled key), then decrypts the safes and shrouded keys (PBES2 with AES or 3DES natively; the legacy
 * PKCS#12 3DES and 40-bit RC2 schemes other tools still write through node-forge, loaded only for them),
 * and returns the key as PKCS#8 PEM through node's createPrivateKey (so EC keys work), the leaf, and the
 * other certificates as a chain. RSA and EC alike.
 */
import {
  createPrivateKey,
  createPublicKey,
  type KeyObject,
  timingSafeEqual,
  X509Certificate,
} from "node:crypto";
import { CertrotorError } from "../errors.js";
import { type Der, decode, MalformedDer } from "./der.js";
import { assertSupportedKey } from "./keys.js";
import { certificatesPem, toPem } from "./pem.js";
import {
  child,
  children,
  MAC_DIGESTS,
  MalformedPfx,
  P12,
  readAlgorithm,
  readInt,
  readOctets,
  readOid,
  UnsupportedAlgorithm,
} from "./pkcs12-asn1.js";
import { pbeDecrypt, pkcs12Mac } from "./pkcs12-pbe.js";

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

/** `mac`: the MAC did not match, which a wrong passphrase and an altered file look the same to. */
class BadPassphrase extends Error {
  constructor(readonly mac = false) {
    super("bad passphrase");
  }
}

function parseDer(bytes: Buffer, what: string): Der {
  try {
    return decode(bytes);
  } catch (error) {
    if (error instanceof MalformedDer) throw new MalformedPfx(`${what}: ${error.message}`, { cause: error });
    throw error;
  }
}

function checkMac(macData: Der, authSafe: Buffer, passphrase: string): void {
  const [digestInfo, saltNode, countNode] = children(macData, "MacData");
  const algorithm = readAlgorithm(child(digestInfo, 0, "MAC DigestInfo"), "MAC algorithm").oid;
  const digest = MAC_DIGESTS[algorithm];
  if (!digest) throw new UnsupportedAlgorithm(`MAC digest ${algorithm}`);
  const salt = readOctets(saltNode, "MAC salt");
  const iterations = countNode ? readInt(countNode, "MAC iterations") : 1;
  const expected = readOctets(child(digestInfo, 1, "MAC DigestInfo"), "MAC value");
  const actual = pkcs12Mac(authSafe, passphrase, salt, iterations, digest);
  if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) throw new BadPassphrase(true);
}

function decrypt(algorithm: Der, ciphertext: Buffer, passphrase: string): Buffer {
  const plaintext = pbeDecrypt(algorithm, ciphertext, passphrase);
  if (plaintext === undefined) throw new BadPassphrase();
  return plaintext;
}

function localKeyIdOf(attributes: Der | undefined): Buffer | undefined {
  for (const attribute of attributes ? children(attributes, "bag attributes") : []) {
    if (readOid(child(attribute, 0, "an attribute"), "an attribute type") === P12.localKeyId) {
      const value = children(child(attribute, 1, "an attribute"), "attribute values")[0];
      if (value) return readOctets(value, "localKeyId");
    }
  }
  return undefined;
}

function collectBags(safeContents: Buffer, passphrase: string, bags: Bags): void {
  for (const bag of children(parseDer(safeContents, "SafeContents"), "SafeContents")) {
    const type = readOid(child(bag, 0, "a SafeBag"), "a bag type");
    const value = child(child(bag, 1, "a SafeBag"), 0, "a bag value");
    const localKeyId = localKeyIdOf(children(bag, "a SafeBag")[2]);
    const ids = localKeyId === undefined ? {} : { localKeyId };
    if (type === P12.shroudedKeyBag) {
      const encrypted = readOctets(child(value, 1, "an EncryptedPrivateKeyInfo"), "an encrypted key");
      const pkcs8 = decrypt(child(value, 0, "an EncryptedPrivateKeyInfo"), encrypted, passphrase);
      bags.keys.push({ pkcs8, ...ids });
    } else if (type === P12.keyBag) {
      bags.keys.push({ pkcs8: value.raw, ...ids });
    } else if (type === P12.certBag) {
      // SDSI certificates (the other certBag kind): nobody uses them.
      if (readOid(child(value, 0, "a CertBag"), "a certificate type") !== P12.x509Certificate) continue;
      const der = readOctets(child(child(value, 1, "a CertBag"), 0, "a certificate"), "a certificate");
      bags.certs.push({ der, ...ids });
    }
  }
}

function collectSafes(authSafe: Buffer, passphrase: string): Bags {
  const bags: Bags = { keys: [], certs: [] };
  for (const contentInfo of children(parseDer(authSafe, "AuthenticatedSafe"), "AuthenticatedSafe")) {
    const type = readOid(child(contentInfo, 0, "a ContentInfo"), "a content type");
    const content = child(child(contentInfo, 1, "a ContentInfo"), 0, "ContentInfo content");
    if (type === P12.data) {
      collectBags(readOctets(content, "data content"), passphrase, bags);
    } else if (type === P12.encryptedData) {
      const encryptedContentInfo = child(content, 1, "EncryptedData");
      const algorithm = child(encryptedContentInfo, 1, "EncryptedContentInfo");
      const ciphertext = readOctets(child(encryptedContentInfo, 2, "encryptedContent"), "encryptedContent");
      collectBags(decrypt(algorithm, ciphertext, passphrase), passphrase, bags);
    } else throw new UnsupportedAlgorithm(`safe of type ${type} (public-key privacy mode)`);
  }
  return bags;
}

function pickLeaf(bags: Bags, key: KeyObject): Bags["certs"][number] | undefined {
  const keyId = bags.keys[0]?.localKeyId;
  const byId = keyId === undefined ? undefined : bags.certs.find((cert) => cert.localKeyId?.equals(keyId));
  if (byId) return byId;
  const spki = createPublicKey(key).export({ type: "spki", format: "der" });
  return bags.certs.find((cert) =>
    new X509Certificate(cert.der).publicKey.export({ type: "spki", format: "der" }).equals(spki),
  );
}

function parse(pfx: Buffer, passphrase: string, where: string): PfxContents {
  const root = parseDer(pfx, "PFX");
  if (readInt(child(root, 0, "a PFX"), "the PFX version") !== 3)
    throw new MalformedPfx("PFX version is not 3");
  const authSafeInfo = child(root, 1, "a PFX");
  if (readOid(child(authSafeInfo, 0, "authSafe"), "authSafe type") !== P12.data) {
    throw new UnsupportedAlgorithm("public-key integrity mode");
  }
  const authSafe = readOctets(child(child(authSafeInfo, 1, "authSafe"), 0, "authSafe"), "authSafe");
  const macData = children(root, "a PFX")[2];
  if (macData) checkMac(macData, authSafe, passphrase);
  const bags = collectSafes(authSafe, passphrase);
  if (bags.keys.length !== 1) throw new MalformedPfx(`expected one private key, found ${bags.keys.length}`);
  const key = createPrivateKey({ key: bags.keys[0]!.pkcs8, format: "der", type: "pkcs8" });
  assertSupportedKey(key, where);
  const leaf = pickLeaf(bags, key);
  if (!leaf) throw new MalformedPfx("no certificate matches the private key");
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
      throw new CertrotorError(
        "PFX_BAD_PASSPHRASE",
        `${where}: the PKCS#12 passphrase is wrong${error.mac ? " (or the file was altered: its MAC does not match)" : ""}`,
        {
          details: { where },
        },
      );
    }
    const why =
      error instanceof UnsupportedAlgorithm ? `uses an unsupported ${error.message}` : "cannot be parsed";
    throw new CertrotorError("PFX_MALFORMED", `${where}: the PKCS#12 data ${why}`, {
      cause: error,
      details: { where },
    });
  }
}
