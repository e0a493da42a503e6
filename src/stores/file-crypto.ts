/**
 * The encrypted envelope of one file-store document: AES-256-GCM, a fresh random 96-bit IV per write,
 * the credential path as additional authenticated data (a file copied over another credential's file
 * fails authentication), and the key id in clear so a wrong key is told apart from tampering.
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { CertrotorError } from "../errors.js";
import type { StoreKey } from "./file-key.js";

const FORMAT = "certrotor-file-store";
const VERSION = 1;
const ALG = "aes-256-gcm";
const TAG_BYTES = 16;

interface Envelope {
  format: typeof FORMAT;
  v: typeof VERSION;
  alg: "A256GCM";
  kid: string;
  iv: string;
  tag: string;
  ct: string;
}

function aad(path: string): Buffer {
  return Buffer.from(`${FORMAT}/v${VERSION}\n${path}`, "utf8");
}

/** The bytes written to disk for `plaintext`, bound to `path`. */
export function seal(plaintext: Buffer, path: string, key: StoreKey): Buffer {
  const iv = randomBytes(12);
  const cipher = createCipheriv(ALG, key.key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad(path));
  const ct = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  const head: Omit<Envelope, "ct"> = {
    format: FORMAT,
    v: VERSION,
    alg: "A256GCM",
    kid: key.id,
    iv: iv.toString("base64"),
    tag: cipher.getAuthTag().toString("base64"),
  };
  // the bytes JSON.stringify(envelope) gives, without its escape scan of the ciphertext: base64 has nothing
  // to escape, and that scan of a document with ten versions (about 70 KB) was most of a seal
  return Buffer.from(`${JSON.stringify(head).slice(0, -1)},"ct":"${ct.toString("base64")}"}\n`, "utf8");
}

function parseEnvelope(bytes: Buffer, file: string, path: string): Envelope {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString("utf8"));
  } catch (error) {
    throw new CertrotorError("MATERIAL_INVALID", `file-store file ${file} is not a JSON envelope`, {
      cause: error,
      details: { path, file },
    });
  }
  const e = value as Partial<Envelope> | null;
  const ok =
    e !== null &&
    typeof e === "object" &&
    e.format === FORMAT &&
    e.v === VERSION &&
    e.alg === "A256GCM" &&
    typeof e.kid === "string" &&
    typeof e.iv === "string" &&
    typeof e.tag === "string" &&
    typeof e.ct === "string";
  if (!ok) {
    throw new CertrotorError(
      "MATERIAL_INVALID",
      `file-store file ${file} is not a ${FORMAT} v${VERSION} envelope`,
      {
        details: { path, file },
      },
    );
  }
  return e as Envelope;
}

/** The plaintext of `bytes`. STORE_KEY_INVALID for another key; MATERIAL_INVALID when tampered or moved. */
export function open(bytes: Buffer, file: string, path: string, key: StoreKey): Buffer {
  const envelope = parseEnvelope(bytes, file, path);
  if (envelope.kid !== key.id) {
    throw new CertrotorError(
      "STORE_KEY_INVALID",
      `file-store file ${file} was encrypted with key ${envelope.kid}, not with the configured key ${key.id} (${key.source})`,
      { details: { path, file, fileKeyId: envelope.kid, keyId: key.id } },
    );
  }
  try {
    // authTagLength 16: without it GCM accepts a tag cut to 4 bytes, a 2^32 forgery instead of 2^128
    const decipher = createDecipheriv(ALG, key.key, Buffer.from(envelope.iv, "base64"), {
      authTagLength: TAG_BYTES,
    });
    decipher.setAAD(aad(path));
    decipher.setAuthTag(Buffer.from(envelope.tag, "base64"));
    return Buffer.concat([decipher.update(Buffer.from(envelope.ct, "base64")), decipher.final()]);
  } catch (error) {
    throw new CertrotorError(
      "MATERIAL_INVALID",
      `file-store file ${file} failed authentication: it was modified, or copied from another credential's file`,
      { cause: error, details: { path, file } },
    );
  }
}
