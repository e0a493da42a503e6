/**
 * @peculiar/x509 set up in one place: reflect-metadata must load before it (its DI container reads
 * decorator metadata at import), and node's own WebCrypto (OpenSSL underneath) is its crypto provider.
 * Every module of the crypto core reaches @peculiar/x509 through this file; its types stay in src/crypto.
 */
import "reflect-metadata";
import { webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export { x509 };

export { arrayBuffer, bytes } from "./bytes.js";
