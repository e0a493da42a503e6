/**
 * privateKeyObject loads an unencrypted key once (OpenSSL's decoders are slow) and hands out the same
 * KeyObject for the same PEM; a bad PEM is refused every time, and encrypted keys are loaded each call.
 */
import assert from "node:assert/strict";
import { createPrivateKey } from "node:crypto";
import { describe, it } from "node:test";
import { generateKeyPair } from "../../src/crypto/index.js";
import { privateKeyObject } from "../../src/crypto/keys.js";

describe("privateKeyObject's memo", () => {
  it("returns the same KeyObject for the same PEM, another for another key", async () => {
    const a = await generateKeyPair("p256");
    const b = await generateKeyPair("p256");
    const first = privateKeyObject(a.keyPem, "key a");
    assert.equal(privateKeyObject(a.keyPem, "key a again"), first);
    assert.notEqual(privateKeyObject(b.keyPem, "key b"), first);
    assert.equal(first.asymmetricKeyDetails?.namedCurve, "prime256v1");
  });

  it("refuses a broken key every time, and loads an encrypted key at each call", async () => {
    const broken = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
    const codes = [0, 1].map(() => {
      try {
        privateKeyObject(broken, "broken key");
        return "loaded";
      } catch (error) {
        return (error as { code?: string }).code;
      }
    });
    assert.deepEqual(codes, ["PEM_MALFORMED", "PEM_MALFORMED"]); // "AAAA" is not one DER value
    const { keyPem } = await generateKeyPair("p256");
    const encrypted = createPrivateKey(keyPem)
      .export({ type: "pkcs8", format: "pem", cipher: "aes-256-cbc", passphrase: "correct horse" })
      .toString();
    const once = privateKeyObject(encrypted, "encrypted key", "correct horse");
    assert.notEqual(privateKeyObject(encrypted, "encrypted key", "correct horse"), once);
    assert.throws(() => privateKeyObject(encrypted, "encrypted key", "wrong"), {
      code: "KEY_BAD_PASSPHRASE",
    });
  });
});
