/**
 * The sandbox's own PKI, made at start-up: a server CA and a TLS server certificate for the listen host
 * (what a client pins with --cacert / caFile), and the bank's CA that signs CSRs in the bank-signs model
 * (seed 000). Built from the crypto core's public API; only the server profile's SANs (the host names
 * and addresses a client may dial) are chosen here.
 */
import { isIP } from "node:net";
import { hostname } from "node:os";
import { createCa, createCsr, generateKeyPair, signServerCsr } from "../crypto/index.js";

const DAY = 86_400_000;

export interface SandboxPki {
  /** CA of the server certificate: what clients trust (pin). */
  serverCaPem: string;
  serverCertPem: string;
  serverKeyPem: string;
  /** The bank's own CA: signs CSRs submitted to the admin API; trusted for client certificates. */
  bankCa: { certPem: string; keyPem: string };
}

/** SAN entries for every name a local client may use to reach `host`. */
function sansFor(host: string): string[] {
  const names = new Set(["dns:localhost", "ip:127.0.0.1", "ip:::1"]);
  const unbracketed = host.replace(/^\[|\]$/g, "");
  if (isIP(unbracketed)) {
    if (unbracketed !== "0.0.0.0" && unbracketed !== "::") names.add(`ip:${unbracketed}`);
  } else if (unbracketed !== "") {
    names.add(`dns:${unbracketed}`);
  }
  names.add(`dns:${hostname()}`);
  return [...names];
}

async function serverCertificate(
  ca: { certPem: string; keyPem: string },
  host: string,
  now: Date,
): Promise<{ certPem: string; keyPem: string }> {
  const { keyPem } = await generateKeyPair("p256");
  const csrPem = await createCsr({
    keyPem,
    subject: "CN=certrotor bank sandbox,O=certrotor sandbox,C=BR",
    sans: sansFor(host),
  });
  const certPem = await signServerCsr({
    csrPem,
    caCertPem: ca.certPem,
    caKeyPem: ca.keyPem,
    validityMs: 397 * DAY,
    now,
  });
  return { certPem, keyPem };
}

export async function createSandboxPki(host: string, now: Date): Promise<SandboxPki> {
  const [serverCa, bankCa] = await Promise.all([
    createCa({
      subject: "CN=certrotor sandbox server CA,O=certrotor sandbox,C=BR",
      keyType: "p256",
      validityMs: 3650 * DAY,
      now,
    }),
    createCa({
      subject: "CN=certrotor sandbox bank CA,O=certrotor sandbox,C=BR",
      keyType: "p256",
      validityMs: 3650 * DAY,
      now,
    }),
  ]);
  const server = await serverCertificate(serverCa, host, now);
  return {
    serverCaPem: serverCa.certPem,
    serverCertPem: server.certPem,
    serverKeyPem: server.keyPem,
    bankCa,
  };
}
