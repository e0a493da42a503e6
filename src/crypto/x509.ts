/**
 * @peculiar/x509 set up in one place: reflect-metadata must load before it (its DI container reads
 * decorator metadata at import), and node's own WebCrypto (OpenSSL underneath) is its crypto provider.
 * Every module of the crypto core reaches @peculiar/x509 through this file; its types stay in src/crypto.
 */
import "reflect-metadata";
import { type KeyObject, webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export { x509 };

type CryptoKey = Awaited<ReturnType<typeof webcrypto.subtle.importKey>>;

export interface WebSigner {
  privateKey: CryptoKey;
  /** RSA signs with SHA-256 (PKCS#1 v1.5); ECDSA with the hash matching the curve (P-256/SHA-256, P-384/SHA-384). */
  algorithm: { name: string; hash: string };
}

function importParams(key: KeyObject): { name: string; hash?: string; namedCurve?: string } {
  if (key.asymmetricKeyType === "rsa") return { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };
  const curve = key.asymmetricKeyDetails?.namedCurve === "secp384r1" ? "P-384" : "P-256";
  return { name: "ECDSA", namedCurve: curve };
}

/** A (supported, already checked) private key as a WebCrypto signing key with its signature algorithm. */
export function webSigner(privateKey: KeyObject): Promise<WebSigner> {
  // KeyObjects come from privateKeyObject's memo: the CA key's import is made once, not per signature
  let signer = signers.get(privateKey);
  if (!signer) {
    signer = importSigner(privateKey);
    signers.set(privateKey, signer);
    signer.catch(() => signers.delete(privateKey));
  }
  return signer;
}

const signers = new WeakMap<KeyObject, Promise<WebSigner>>();

async function importSigner(privateKey: KeyObject): Promise<WebSigner> {
  const params = importParams(privateKey);
  const der = privateKey.export({ type: "pkcs8", format: "der" });
  const imported = await webcrypto.subtle.importKey("pkcs8", der, params, false, ["sign"]);
  const hash = params.namedCurve === "P-384" ? "SHA-384" : "SHA-256";
  return { privateKey: imported, algorithm: { name: params.name, hash } };
}

export { arrayBuffer, bytes } from "./bytes.js";
