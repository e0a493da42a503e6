/**
 * readPfx on node:crypto against files that are not the happy path: altered bytes, cut files, BER as
 * Windows writes it, and the legacy schemes that still go through node-forge (loaded only for them).
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { after, before, describe, it } from "node:test";
import { type Der, decode, childrenOf, explicit0, int, octets, oid, seq } from "../../src/crypto/der.js";
import { buildPfx, keyMatchesCertificate, readPfx } from "../../src/crypto/index.js";
import { forgeLoaded } from "../../src/crypto/pkcs12-legacy.js";
import { CertrotorError, type ErrorCode, isCertrotorError } from "../../src/errors.js";
import { aCa, aClientCert, type PkiMaterial } from "../fixtures/pki.js";
import { openssl, type TempDir, tempDir } from "./tools.js";

const SECRET = "s3cret-passphrase-ABCDEFGH";
const DATA = "1.2.840.113549.1.7.1";

function refusal(fn: () => unknown): CertrotorError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof CertrotorError, `a typed error, got ${String(error)}`);
    return error;
  }
  assert.fail("expected readPfx to refuse");
}

function assertCode(error: CertrotorError, code: ErrorCode, where: string): void {
  assert.ok(isCertrotorError(error, code), `expected ${code}, got ${error.code}: ${error.message}`);
  assert.ok(error.message.includes(where));
  const visible = [error.message, error.toSafeString(), JSON.stringify(error)].join("\n");
  assert.ok(!visible.includes(SECRET), "the passphrase is not in the error");
}

/** [n] of a constructed node. */
const part = (node: Der, index: number): Der => childrenOf(node)[index]!;

/** The PFX with its authSafe OCTET STRING re-encoded as BER: constructed, indefinite length, 100-byte chunks. */
function asWindowsBer(pfx: Buffer): Buffer {
  const root = decode(pfx);
  const authSafe = part(part(part(root, 1), 1), 0).contents;
  const chunks: Buffer[] = [];
  for (let at = 0; at < authSafe.length; at += 100) chunks.push(octets(authSafe.subarray(at, at + 100)));
  const constructed = Buffer.concat([Buffer.of(0x24, 0x80), ...chunks, Buffer.of(0, 0)]);
  const contentInfo = Buffer.concat([
    Buffer.of(0x30, 0x80),
    oid(DATA),
    Buffer.of(0xa0, 0x80),
    constructed,
    Buffer.of(0, 0, 0, 0),
  ]);
  return seq(int(3), contentInfo, part(root, 2).raw);
}

describe("readPfx on altered, cut and unusual files", () => {
  let dir: TempDir;
  let ca: PkiMaterial;
  let client: PkiMaterial;
  let pfx: Buffer;
  before(async () => {
    dir = await tempDir();
    ca = await aCa({ keyType: "p256" });
    client = await aClientCert({ ca, keyType: "p256" });
    pfx = buildPfx({
      keyPem: client.keyPem,
      certPem: client.certPem,
      chainPem: ca.certPem,
      passphrase: SECRET,
    });
    await dir.write("key.pem", client.keyPem);
    await dir.write("cert.pem", client.certPem);
    await openssl(
      [
        "pkcs12",
        "-export",
        "-inkey",
        "key.pem",
        "-in",
        "cert.pem",
        "-passout",
        `pass:${SECRET}`,
        "-out",
        "new.pfx",
      ],
      dir.path,
    );
  });
  after(async () => {
    await dir.remove();
  });

  it("refuses a file whose MAC value was altered with PFX_BAD_PASSPHRASE, saying the file may have been altered", () => {
    const root = decode(pfx);
    const macValue = part(part(part(root, 2), 0), 1);
    const altered = Buffer.from(pfx);
    const at = macValue.contents.byteOffset - pfx.byteOffset;
    altered[at] = altered[at]! ^ 0x01;
    const error = refusal(() => readPfx(altered, SECRET, "vault:a/b pfxBase64"));
    assertCode(error, "PFX_BAD_PASSPHRASE", "vault:a/b pfxBase64");
    assert.match(error.message, /altered/);
  });

  it("refuses a file whose encrypted certificates were altered, before decrypting anything", () => {
    const altered = Buffer.from(pfx);
    altered[200] = altered[200]! ^ 0x80;
    assertCode(
      refusal(() => readPfx(altered, SECRET, "c.pfx")),
      "PFX_BAD_PASSPHRASE",
      "c.pfx",
    );
  });

  it("either refuses a file with any one byte changed with a typed code, or reads the very same contents", () => {
    const original = readPfx(pfx, SECRET);
    // Every 5th byte: each part of the structure (tags, lengths, OIDs, counts, salts) gets hit.
    for (let at = 0; at < pfx.length; at += 5) {
      const altered = Buffer.from(pfx);
      altered[at] = altered[at]! ^ 0x01;
      let back: ReturnType<typeof readPfx> | undefined;
      try {
        back = readPfx(altered, SECRET, "x.pfx");
      } catch (error) {
        assert.ok(
          isCertrotorError(error, "PFX_MALFORMED") || isCertrotorError(error, "PFX_BAD_PASSPHRASE"),
          `byte ${at}: ${String(error)}`,
        );
        continue;
      }
      assert.deepEqual(back, original, `byte ${at} changed what was read`);
    }
  });

  it("refuses a file cut at any length with PFX_MALFORMED", () => {
    for (let length = 0; length < pfx.length; length += 7) {
      assertCode(
        refusal(() => readPfx(pfx.subarray(0, length), SECRET, "cut.pfx")),
        "PFX_MALFORMED",
        "cut.pfx",
      );
    }
  });

  it("reads a PFX in BER with indefinite lengths and a chunked OCTET STRING, as Windows writes it", () => {
    const back = readPfx(asWindowsBer(pfx), SECRET);
    assert.equal(back.certPem, client.certPem);
    assert.equal(back.chainPem, ca.certPem);
    assert.ok(keyMatchesCertificate(back.keyPem, client.certPem));
  });

  it("reads PBES2 files without loading node-forge, and loads it for a legacy (RC2/3DES) file only", async () => {
    readPfx(pfx, SECRET);
    readPfx(await readFile(dir.file("new.pfx")), SECRET);
    assert.equal(forgeLoaded(), false, "node-forge stays unloaded for AES/PBKDF2 files");

    await openssl(
      [
        "pkcs12",
        "-export",
        "-legacy",
        "-inkey",
        "key.pem",
        "-in",
        "cert.pem",
        "-passout",
        `pass:${SECRET}`,
        "-out",
        "old.pfx",
      ],
      dir.path,
    );
    const legacy = await readFile(dir.file("old.pfx"));
    const back = readPfx(legacy, SECRET);
    assert.equal(back.certPem, client.certPem);
    assert.ok(keyMatchesCertificate(back.keyPem, client.certPem));
    assert.equal(forgeLoaded(), true);
    assertCode(
      refusal(() => readPfx(legacy, "wrong-guess", "old.pfx")),
      "PFX_BAD_PASSPHRASE",
      "old.pfx",
    );
  });

  it("refuses a wrong passphrase on an OpenSSL file with PFX_BAD_PASSPHRASE, naming neither passphrase", async () => {
    const made = await readFile(dir.file("new.pfx"));
    const error = refusal(() => readPfx(made, "guess-1234", "client.pfx"));
    assertCode(error, "PFX_BAD_PASSPHRASE", "client.pfx");
    assert.ok(!error.message.includes("guess-1234"));
  });

  it("refuses an encryption scheme it does not read with PFX_MALFORMED naming the algorithm", () => {
    // The first PBES2 OID swapped for an unknown one of the same length, and the MAC dropped (MacData is
    // OPTIONAL) so that the reader gets as far as the decryption.
    const root = decode(pfx);
    const authSafe = part(part(part(root, 1), 1), 0).contents;
    const pbes2 = oid("1.2.840.113549.1.5.13");
    const at = authSafe.indexOf(pbes2);
    const swapped = Buffer.from(authSafe);
    oid("1.2.840.113549.1.5.99").copy(swapped, at);
    const noMac = seq(int(3), seq(oid(DATA), explicit0(octets(swapped))));
    const error = refusal(() => readPfx(noMac, SECRET, "odd.pfx"));
    assertCode(error, "PFX_MALFORMED", "odd.pfx");
    assert.match(error.message, /unsupported .*1\.2\.840\.113549\.1\.5\.99/);
  });
});
