import assert from "node:assert/strict";
import { createHmac, generateKeyPairSync, randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import { isCertrotorError } from "../../src/errors.js";
import { assertNoSecrets, secretShape } from "../../src/journal/guard.js";

const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const keyPem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
const keyDer = privateKey.export({ type: "pkcs8", format: "der" });
const b64url = (value: Buffer | string): string => Buffer.from(value).toString("base64url");
const header = b64url(JSON.stringify({ alg: "HS256", typ: "JWT" }));
const payload = b64url(
  JSON.stringify({ sub: "client-123", cnf: { "x5t#S256": b64url(randomBytes(32)) }, exp: 1_900_000_000 }),
);
const jwt = `${header}.${payload}.${b64url(createHmac("sha256", randomBytes(32)).update(`${header}.${payload}`).digest())}`;

describe("journal secret guard", () => {
  const secret: [string, string][] = [
    ["a PEM private key", keyPem],
    ["a PEM private key inside an error message", `verify failed: ${keyPem} was refused`],
    ["one wrapped line of a PEM key body", keyPem.split("\n")[3]!],
    ["a base64 DER key without armor", keyDer.toString("base64")],
    ["PFX-sized base64 bytes", randomBytes(1500).toString("base64")],
    ["an access token (JWT)", `token ${jwt}`],
    ["a Vault service token", `hvs.${b64url(randomBytes(70))}`],
  ];
  for (const [name, value] of secret) {
    it(`recognises ${name}`, () => assert.notEqual(secretShape(value), null));
  }

  const safe: [string, string][] = [
    ["a SHA-256 fingerprint", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"],
    [
      "a colon-hex fingerprint",
      "9F:86:D0:81:88:4C:7D:65:9A:2F:EA:A0:C5:5A:D0:15:A3:BF:4F:1B:2B:0B:82:2C:D1:5D:6C:15",
    ],
    [
      "a long Vault path",
      "secret/data/banks/bradesco-sandbox/credentials/PaymentsTeam2025/client-cert-main-account",
    ],
    [
      "an error message",
      "401 Invalid Client Certificate: the certificate is not bound to client_id acme-prod-01",
    ],
    ["a uuid rotation id", "rot-3b241101-e2bb-4255-8caf-4136c566a962"],
  ];
  for (const [name, value] of safe) {
    it(`lets ${name} through`, () => assert.equal(secretShape(value), null));
  }

  it("names the nested field and never echoes the value", () => {
    const line = keyPem.split("\n")[2]!;
    assert.throws(
      () => assertNoSecrets({ details: { probe: "ok", body: keyPem } }, "audit event"),
      (error) =>
        isCertrotorError(error, "INTERNAL") &&
        error.message.includes('field "details.body"') &&
        !error.message.includes(line),
    );
  });
});
