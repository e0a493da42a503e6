import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { once } from "node:events";
import { readFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import tls from "node:tls";
import {
  buildPfx,
  inspectCertificate,
  keyMatchesCertificate,
  type KeyType,
  randomPassphrase,
  readPfx,
} from "../../src/crypto/index.js";
import { aCa, aClientCert, aServerCert, type PkiMaterial } from "../fixtures/pki.js";
import { openssl, type TempDir, tempDir, tool } from "./tools.js";

const KEY_TYPES_UNDER_TEST: KeyType[] = ["rsa2048", "p256", "p384"];

describe("PKCS#12 files certrotor writes", () => {
  let dir: TempDir;
  const material = new Map<
    KeyType,
    { ca: PkiMaterial; client: PkiMaterial; pfx: Buffer; passphrase: string }
  >();
  before(async () => {
    dir = await tempDir();
    for (const keyType of KEY_TYPES_UNDER_TEST) {
      const ca = await aCa({ keyType });
      const client = await aClientCert({ ca, keyType });
      const passphrase = randomPassphrase();
      const pfx = buildPfx({
        keyPem: client.keyPem,
        certPem: client.certPem,
        chainPem: ca.certPem,
        passphrase,
      });
      material.set(keyType, { ca, client, pfx, passphrase });
      await dir.write(`${keyType}.pfx`, pfx);
    }
  });
  after(async () => {
    await dir.remove();
  });

  for (const keyType of KEY_TYPES_UNDER_TEST) {
    it(`(${keyType}) are read by \`openssl pkcs12\`, which reports AES-256-CBC under PBES2/PBKDF2 and a SHA-256 MAC`, async () => {
      const { passphrase, client, ca } = material.get(keyType)!;
      const info = await openssl(
        ["pkcs12", "-info", "-in", `${keyType}.pfx`, "-nodes", "-passin", `pass:${passphrase}`],
        dir.path,
      );
      const lines = info.stderr.split("\n").map((line) => line.trim());
      assert.ok(lines.includes("MAC: sha256, Iteration 2048"), info.stderr);
      assert.ok(
        lines.some(
          (l) => l.startsWith("Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC") && l.includes("hmacWithSHA256"),
        ),
        info.stderr,
      );
      assert.ok(
        lines.some((l) => l.startsWith("PKCS7 Encrypted data: PBES2, PBKDF2, AES-256-CBC")),
        info.stderr,
      );
      // Only openssl's algorithm lines are checked: stdout holds the (random) key and certificates, whose
      // base64 can spell "RC2" or "3DES" by chance.
      const algorithms = lines.filter((l) =>
        /^(MAC|Shrouded Keybag|PKCS7 Encrypted data|Certificate bag|Key bag):/.test(l),
      );
      assert.ok(algorithms.length >= 3, info.stderr);
      for (const line of algorithms) assert.doesNotMatch(line, /RC2|3DES|des-ede3/i);
      assert.match(info.stdout, /friendlyName: certrotor/);
      assert.match(info.stdout, /localKeyID: /);
      const certs = await openssl(
        ["pkcs12", "-in", `${keyType}.pfx`, "-nokeys", "-info", "-passin", `pass:${passphrase}`],
        dir.path,
      );
      assert.equal(certs.stdout.match(/BEGIN CERTIFICATE/g)?.length, 2);
      assert.ok(certs.stdout.includes(client.certPem.trim()));
      assert.ok(certs.stdout.includes(ca.certPem.trim()));
      const key = await openssl(
        ["pkcs12", "-in", `${keyType}.pfx`, "-nocerts", "-nodes", "-passin", `pass:${passphrase}`],
        dir.path,
      );
      assert.ok(keyMatchesCertificate(key.stdout, client.certPem));
    });

    it(`(${keyType}) are listed by Java keytool as one private-key entry under the friendly name`, async () => {
      const { passphrase } = material.get(keyType)!;
      const { stdout } = await tool(
        "keytool",
        ["-list", "-storetype", "PKCS12", "-keystore", `${keyType}.pfx`, "-storepass", passphrase],
        dir.path,
      );
      assert.match(stdout, /Your keystore contains 1 entry/);
      assert.match(stdout, /^certrotor, .*PrivateKeyEntry/m);
    });

    it(`(${keyType}) load into tls.createSecureContext and authenticate a real mTLS handshake`, async () => {
      const { pfx, passphrase, ca, client } = material.get(keyType)!;
      tls.createSecureContext({ pfx, passphrase });
      const server = await serverTrusting(ca);
      try {
        const socket = tls.connect({
          host: "127.0.0.1",
          port: server.port,
          pfx,
          passphrase,
          ca: server.serverCaPem,
          servername: "localhost",
        });
        const connected = new Promise<void>((resolve, reject) => {
          socket.once("secureConnect", resolve);
          socket.once("error", reject);
        });
        const [fingerprint] = await Promise.all([server.peer, connected]);
        socket.end();
        assert.equal(fingerprint, inspectCertificate(client.certPem).fingerprint);
      } finally {
        server.close();
      }
    });

    it(`(${keyType}) read back to the same key, certificate and chain`, () => {
      const { pfx, passphrase, ca, client } = material.get(keyType)!;
      const back = readPfx(pfx, passphrase);
      assert.equal(back.certPem, client.certPem);
      assert.equal(back.chainPem, ca.certPem);
      assert.ok(keyMatchesCertificate(back.keyPem, back.certPem));
      assert.match(back.keyPem, /^-----BEGIN PRIVATE KEY-----\n/);
    });
  }

  it("uses a fresh random passphrase of at least 128 bits, URL-safe", () => {
    const passphrases = new Set(Array.from({ length: 50 }, () => randomPassphrase()));
    assert.equal(passphrases.size, 50);
    for (const passphrase of passphrases) {
      assert.match(passphrase, /^[A-Za-z0-9_-]+$/);
      assert.ok(Buffer.from(passphrase, "base64url").length * 8 >= 128);
    }
  });
});

describe("PKCS#12 files other tools write", () => {
  let dir: TempDir;
  let ca: PkiMaterial;
  let client: PkiMaterial;
  before(async () => {
    dir = await tempDir();
    ca = await aCa({ keyType: "p256" });
    client = await aClientCert({ ca, keyType: "p256" });
    await dir.write("key.pem", client.keyPem);
    await dir.write("cert.pem", client.certPem);
    await dir.write("ca.pem", ca.certPem);
  });
  after(async () => {
    await dir.remove();
  });

  const variants: [string, string[]][] = [
    ["OpenSSL 3 defaults (PBES2, AES-256, SHA-256 MAC)", []],
    [
      "3DES for key and certificates with a SHA-1 MAC",
      ["-keypbe", "PBE-SHA1-3DES", "-certpbe", "PBE-SHA1-3DES", "-macalg", "sha1"],
    ],
    ["unencrypted certificates", ["-certpbe", "NONE"]],
  ];
  for (const [name, args] of variants) {
    it(`reads an EC PFX made by \`openssl pkcs12 -export\` with ${name}`, async () => {
      const file = `${name.length}.pfx`;
      await openssl(
        [
          "pkcs12",
          "-export",
          "-inkey",
          "key.pem",
          "-in",
          "cert.pem",
          "-certfile",
          "ca.pem",
          "-passout",
          "pass:pa55 wörd",
        ].concat(["-out", file], args),
        dir.path,
      );
      const back = readPfx(await readFile(dir.file(file)), "pa55 wörd");
      assert.equal(back.certPem, client.certPem);
      assert.equal(back.chainPem, ca.certPem);
      assert.ok(keyMatchesCertificate(back.keyPem, client.certPem));
    });
  }

  it("reads a legacy PFX whose certificates are under 40-bit RC2 (openssl -legacy)", async () => {
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
        "pass:old",
        "-out",
        "legacy.pfx",
      ],
      dir.path,
    );
    const info = await openssl(
      ["pkcs12", "-info", "-legacy", "-noout", "-in", "legacy.pfx", "-passin", "pass:old"],
      dir.path,
    );
    assert.match(info.stderr, /PKCS7 Encrypted data: pbeWithSHA1And40BitRC2-CBC/);
    const back = readPfx(await readFile(dir.file("legacy.pfx")), "old");
    assert.equal(back.certPem, client.certPem);
    assert.equal(back.chainPem, undefined);
  });
});

interface TrustingServer {
  port: number;
  /** The server's CA, for the client to trust. */
  serverCaPem: string;
  /** Resolves with the fingerprint of the client certificate of the first authorised connection; rejects on a TLS error. */
  peer: Promise<string>;
  close(): void;
}

/** A TLS server that requires a client certificate chaining to `ca`. */
async function serverTrusting(ca: PkiMaterial): Promise<TrustingServer> {
  const serverCa = await aCa();
  const serverCert = await aServerCert({ ca: serverCa });
  const server = tls.createServer({
    key: serverCert.keyPem,
    cert: serverCert.certPem,
    ca: ca.certPem,
    requestCert: true,
    rejectUnauthorized: true,
  });
  const peer = new Promise<string>((resolve, reject) => {
    server.once("tlsClientError", reject);
    server.once("secureConnection", (socket) => {
      const raw = socket.getPeerCertificate().raw;
      resolve(createHash("sha256").update(raw).digest("hex"));
      socket.end();
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    port: (server.address() as AddressInfo).port,
    serverCaPem: serverCa.certPem,
    peer,
    close: () => server.close(),
  };
}
