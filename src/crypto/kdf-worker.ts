/**
 * The thread that derives PFX keys for kdf-thread.ts: the two PBKDF2 keys and the PKCS#12 MAC key, whose
 * KDF is 2048 chained digests, each a call from JavaScript into OpenSSL (no node:crypto call runs the chain
 * at once). Here they run beside the rotation's keygen, CSR and signing instead of after them. The keys go
 * into the request's shared buffer, then its state word flips, so the main thread can take them without
 * waiting for its event loop to deliver a message. The passphrase is never logged.
 */
import { parentPort } from "node:worker_threads";
import { KEYS_AT, KEY_SIZE, type KdfReply, type KdfRequest, STATE } from "./kdf-thread.js";
import { pbes2KeyWithSalt, pkcs12MacKey } from "./pkcs12-pbe.js";

parentPort?.on("message", (request: KdfRequest) => {
  const state = new Int32Array(request.shared, 0, 1);
  const keys = new Uint8Array(request.shared, KEYS_AT, 3 * KEY_SIZE);
  let reply: KdfReply;
  try {
    const { passphrase, iterations } = request;
    keys.set(pbes2KeyWithSalt(passphrase, Buffer.from(request.keyBagSalt), iterations), 0);
    keys.set(pbes2KeyWithSalt(passphrase, Buffer.from(request.certSafeSalt), iterations), KEY_SIZE);
    keys.set(
      pkcs12MacKey(passphrase, Buffer.from(request.macSalt), iterations, request.digest),
      2 * KEY_SIZE,
    );
    Atomics.store(state, 0, STATE.ready);
    reply = { id: request.id };
  } catch (error) {
    Atomics.store(state, 0, STATE.failed);
    reply = { id: request.id, error: error instanceof Error ? error.message : String(error) };
  }
  parentPort?.postMessage(reply);
});
