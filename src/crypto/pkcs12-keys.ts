/**
 * The password-based keys of one PFX, made before its certificate exists: they depend only on the
 * passphrase and fresh salts, so a rotation starts them when it generates its key and builds the PFX with
 * them once the certificate is signed. They are derived on kdf-thread.ts's worker (the MAC key's PKCS#12
 * KDF is most of a PFX build's time). `take()` never waits: keys not ready by then (a worker still
 * starting, or one that failed) are derived on the spot, as buildPfx does without them, so a head start
 * can only make the build shorter.
 */
import { randomBytes } from "node:crypto";
import { deriveOffThread } from "./kdf-thread.js";
import { MAC_DIGESTS, SHA256_OID } from "./pkcs12-asn1.js";
import { type Pbes2Key, pbes2Key, pkcs12MacKey } from "./pkcs12-pbe.js";

/** OpenSSL's default (PKCS12_DEFAULT_ITER); the passphrases certrotor makes carry 192 random bits anyway. */
export const PFX_ITERATIONS = 2048;
export const PFX_MAC_DIGEST = MAC_DIGESTS[SHA256_OID]!;

/** Everything a PFX build derives from its passphrase. */
export interface PfxKeys {
  passphrase: string;
  /** PBES2 of the shrouded key bag. */
  keyBag: Pbes2Key;
  /** PBES2 of the encrypted certificate safe. */
  certSafe: Pbes2Key;
  mac: { salt: Buffer; key: Buffer };
}

/** A passphrase's PFX keys, being derived off the main thread. */
export interface PfxKeysAhead {
  readonly passphrase: string;
  /** Settles when the derivation ends: true when its keys are ready, false when it failed. */
  readonly settled: Promise<boolean>;
  /** The keys: the derived ones when ready, else derived now. */
  take(): PfxKeys;
}

/** A URL-safe random passphrase: 24 random bytes (192 bits) as 32 base64url characters. */
export function randomPassphrase(): string {
  return randomBytes(24).toString("base64url");
}

/** The PFX keys of `passphrase`, derived on this thread. */
export function derivePfxKeys(passphrase: string): PfxKeys {
  const salt = randomBytes(16);
  return {
    passphrase,
    keyBag: pbes2Key(passphrase, PFX_ITERATIONS),
    certSafe: pbes2Key(passphrase, PFX_ITERATIONS),
    mac: { salt, key: pkcs12MacKey(passphrase, salt, PFX_ITERATIONS, PFX_MAC_DIGEST) },
  };
}

/** Starts deriving the PFX keys of `passphrase` (a fresh random one by default) off the main thread. */
export function pfxKeysAhead(passphrase = randomPassphrase()): PfxKeysAhead {
  const salts = { keyBag: randomBytes(16), certSafe: randomBytes(16), mac: randomBytes(16) };
  const thread = deriveOffThread({
    passphrase,
    keyBagSalt: salts.keyBag,
    certSafeSalt: salts.certSafe,
    macSalt: salts.mac,
    iterations: PFX_ITERATIONS,
    digest: PFX_MAC_DIGEST,
  });
  let derived: PfxKeys | undefined;
  const take = (): PfxKeys => {
    if (derived) return derived;
    const keys = thread.poll();
    if (!keys) return derivePfxKeys(passphrase);
    derived = {
      passphrase,
      keyBag: { salt: salts.keyBag, key: keys.keyBag },
      certSafe: { salt: salts.certSafe, key: keys.certSafe },
      mac: { salt: salts.mac, key: keys.mac },
    };
    return derived;
  };
  return { passphrase, settled: thread.settled, take };
}
