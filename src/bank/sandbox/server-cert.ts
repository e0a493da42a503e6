/**
 * The sandbox's own PKI, made at start-up: a server CA and a TLS server certificate for the listen host
 * (what a client pins with --cacert / caFile), and the bank's CA that signs CSRs in the bank-signs model
 * (seed 000). Built from the crypto core; only the server profile (EKU serverAuth, SANs for the host
 * names and addresses a client may dial) is assembled here, because the core issues client certs only.
 */
import { createPrivateKey } from "node:crypto";
import { isIP } from "node:net";
import { hostname } from "node:os";
import { createCa, generateKeyPair } from "../../crypto/index.js";
import {
  authorityKeyIdentifier,
  basicConstraints,
  extKeyUsage,
  keyIdentifierOf,
  keyUsage,
  subjectAltName,
  subjectKeyIdentifier,
} from "../../crypto/extensions.js";
import { inspectCertificate } from "../../crypto/inspect.js";
import { issueCertificate, NOT_BEFORE_BACKDATE_MS, randomSerial } from "../../crypto/issue.js";
import { spkiDerOf } from "../../crypto/keys.js";
import { encodeName } from "../../crypto/names.js";
import { signerFor } from "../../crypto/signature.js";

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
  const spkiDer = spkiDerOf(createPrivateKey(keyPem));
  const caInfo = inspectCertificate(ca.certPem, "sandbox server CA");
  const caKey = createPrivateKey(ca.keyPem);
  const certPem = issueCertificate(
    {
      serial: randomSerial(),
      issuerDer: caInfo.subjectDer,
      subjectDer: encodeName("CN=certrotor bank sandbox,O=certrotor sandbox,C=BR", "sandbox server subject"),
      spkiDer,
      notBefore: new Date(now.getTime() - NOT_BEFORE_BACKDATE_MS),
      notAfter: new Date(now.getTime() + 397 * DAY),
      extensions: [
        basicConstraints(false),
        keyUsage(["digitalSignature"]),
        extKeyUsage(["serverAuth"]),
        subjectKeyIdentifier(keyIdentifierOf(spkiDer)),
        authorityKeyIdentifier(keyIdentifierOf(spkiDerOf(caKey))),
        subjectAltName(sansFor(host), "sandbox server SANs"),
      ],
    },
    signerFor(caKey),
  );
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
