/**
 * The bank sandbox's TLS offer: TLS 1.2 only with forward-secret AEAD suites (no CBC-SHA1 suite a
 * client could be downgraded to), TLS 1.3 as Node offers it. Checked with real handshakes.
 */
import assert from "node:assert/strict";
import { connect, type TLSSocket } from "node:tls";
import { after, before, describe, it } from "node:test";
import { type SandboxHandle, startSandbox } from "../../src/sandbox/index.js";

/** The negotiated cipher of a handshake offering only `ciphers`, or the handshake's error code. */
async function handshake(
  sandbox: SandboxHandle,
  options: { ciphers?: string; maxVersion: "TLSv1.2" | "TLSv1.3" },
): Promise<string> {
  const socket: TLSSocket = connect({
    host: sandbox.host,
    port: sandbox.port,
    ca: sandbox.serverCaPem,
    servername: "localhost",
    rejectUnauthorized: true,
    minVersion: "TLSv1.2",
    ...options,
  });
  try {
    // events.once rejects on "error", so both outcomes are taken by hand
    return await new Promise<string>((resolve) => {
      socket.once("secureConnect", () => resolve(socket.getCipher().name));
      socket.once("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? "error"));
    });
  } finally {
    socket.destroy();
  }
}

describe("the bank sandbox's TLS", () => {
  let sandbox: SandboxHandle;
  before(async () => {
    sandbox = await startSandbox({});
  });
  after(() => sandbox.stop());

  it("refuses a TLS 1.2 client that offers only CBC-SHA1 suites", async () => {
    const outcome = await handshake(sandbox, {
      maxVersion: "TLSv1.2",
      ciphers: "ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA:ECDHE-RSA-AES128-SHA:AES128-SHA:AES256-SHA",
    });
    assert.match(outcome, /^ERR_SSL_|^ECONNRESET$/, `handshake outcome: ${outcome}`);
  });

  it("negotiates an ECDHE AEAD suite with a TLS 1.2 client offering OpenSSL's defaults, and TLS 1.3 as usual", async () => {
    const tls12 = await handshake(sandbox, { maxVersion: "TLSv1.2" });
    assert.match(tls12, /^ECDHE-ECDSA-(AES128-GCM-SHA256|AES256-GCM-SHA384|CHACHA20-POLY1305)$/);
    const tls13 = await handshake(sandbox, { maxVersion: "TLSv1.3" });
    assert.match(tls13, /^TLS_(AES_128_GCM_SHA256|AES_256_GCM_SHA384|CHACHA20_POLY1305_SHA256)$/);
  });
});
