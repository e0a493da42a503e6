import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { buildPfx, readPfx } from "../../src/crypto/index.js";
import { deriveOffThread } from "../../src/crypto/kdf-thread.js";
import { derivePfxKeys, PFX_MAC_DIGEST, pfxKeysAhead } from "../../src/crypto/pkcs12-keys.js";
import { pbes2KeyWithSalt, pkcs12MacKey } from "../../src/crypto/pkcs12-pbe.js";
import { aCa, aClientCert, type PkiMaterial } from "../fixtures/pki.js";
import { openssl, type TempDir, tempDir } from "./tools.js";

describe("PFX keys derived ahead of the build", () => {
  let dir: TempDir;
  let ca: PkiMaterial;
  let client: PkiMaterial;
  // the KDF thread never holds the process open (a one-shot command must not wait for it), so a test that
  // awaits only its answer holds it open itself
  let holdOpen: NodeJS.Timeout;
  before(async () => {
    holdOpen = setInterval(() => undefined, 60_000);
    dir = await tempDir();
    ca = await aCa({ keyType: "p256" });
    client = await aClientCert({ ca, keyType: "p256" });
  });
  after(async () => {
    clearInterval(holdOpen);
    await dir.remove();
  });

  /** Builds a PFX with `keys` and has openssl and our reader open it with the passphrase. */
  async function opens(name: string, keys: ReturnType<typeof derivePfxKeys>): Promise<void> {
    const pfx = buildPfx({
      keyPem: client.keyPem,
      certPem: client.certPem,
      chainPem: ca.certPem,
      passphrase: keys.passphrase,
      keys,
    });
    await dir.write(name, pfx);
    const info = await openssl(
      ["pkcs12", "-info", "-in", name, "-noout", "-passin", `pass:${keys.passphrase}`],
      dir.path,
    );
    assert.match(info.stderr, /MAC: sha256, Iteration 2048/);
    const read = readPfx(pfx, keys.passphrase);
    assert.equal(read.certPem.trim(), client.certPem.trim());
  }

  it("derives on the worker thread the keys this thread derives from the same salts", async () => {
    const passphrase = "a passphrase with ümlauts";
    const salts = [randomBytes(16), randomBytes(16), randomBytes(16)] as const;
    const request = { passphrase, iterations: 2048, digest: PFX_MAC_DIGEST };
    const thread = deriveOffThread({
      ...request,
      keyBagSalt: salts[0],
      certSafeSalt: salts[1],
      macSalt: salts[2],
    });
    assert.equal(await thread.settled, true);
    assert.deepEqual(thread.poll(), {
      keyBag: pbes2KeyWithSalt(passphrase, salts[0], 2048),
      certSafe: pbes2KeyWithSalt(passphrase, salts[1], 2048),
      mac: pkcs12MacKey(passphrase, salts[2], 2048, PFX_MAC_DIGEST),
    });
  });

  it("settles a refused derivation as false with no keys, and the thread answers the next request", async () => {
    const salt = randomBytes(16);
    const ask = (iterations: number) =>
      deriveOffThread({
        passphrase: "x",
        iterations,
        digest: PFX_MAC_DIGEST,
        keyBagSalt: salt,
        certSafeSalt: salt,
        macSalt: salt,
      });
    const refused = ask(0);
    assert.equal(await refused.settled, false);
    assert.equal(refused.poll(), undefined);
    const next = ask(16);
    assert.equal(await next.settled, true);
    assert.deepEqual(next.poll()?.mac, pkcs12MacKey("x", salt, 16, PFX_MAC_DIGEST));
  });

  it("hands out the keys derived off the main thread once they are ready, and they make a PFX openssl opens", async () => {
    const ahead = pfxKeysAhead();
    assert.equal(await ahead.settled, true);
    const keys = ahead.take();
    assert.equal(ahead.take(), keys, "taken twice, derived once");
    assert.equal(keys.passphrase, ahead.passphrase);
    await opens("ahead.pfx", keys);
  });

  it("refuses keys derived from another passphrase", () => {
    assert.throws(
      () =>
        buildPfx({
          keyPem: client.keyPem,
          certPem: client.certPem,
          passphrase: "one",
          keys: derivePfxKeys("another"),
        }),
      /derived from another passphrase/,
    );
  });
  // last: it leaves the thread busy for a second or so after the file's tests end
  it("derives the keys on the spot when they are taken before the thread answered", async () => {
    // the thread answers in order: behind a derivation of a million rounds, this one cannot be ready yet
    const salt = randomBytes(16);
    const busy = deriveOffThread({
      passphrase: "x",
      iterations: 1_000_000,
      digest: PFX_MAC_DIGEST,
      keyBagSalt: salt,
      certSafeSalt: salt,
      macSalt: salt,
    });
    const ahead = pfxKeysAhead();
    const early = ahead.take();
    assert.equal(busy.poll(), undefined, "the thread was still on the long derivation");
    assert.equal(early.passphrase, ahead.passphrase);
    await opens("early.pfx", early);
    assert.notEqual(ahead.take(), early, "made on the spot again: nothing was kept from the first take");
  });
});
