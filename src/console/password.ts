/**
 * Console passwords: scrypt from node:crypto (no native dependency), stored as
 * `scrypt$N$r$p$salt$hash` (base64) so the cost can rise later without breaking old hashes.
 */
import { randomBytes, scrypt as scryptCb, timingSafeEqual } from "node:crypto";
import { promisify } from "node:util";
import { SCRYPT_HASH } from "../config/schema.js";

const scrypt = promisify(scryptCb) as (
  password: string,
  salt: Buffer,
  keylen: number,
  options: { N: number; r: number; p: number; maxmem: number },
) => Promise<Buffer>;

/** OWASP's scrypt floor (N=2^17, r=8, p=1): some 0.1 s and 128 MiB per login, on purpose. */
const COST = { N: 2 ** 17, r: 8, p: 1 };
const KEY_LENGTH = 32;

const maxmem = (N: number, r: number): number => 128 * N * r + 1024 * 1024;

export async function hashPassword(password: string, cost: typeof COST = COST): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scrypt(password, salt, KEY_LENGTH, { ...cost, maxmem: maxmem(cost.N, cost.r) });
  return `scrypt$${cost.N}$${cost.r}$${cost.p}$${salt.toString("base64")}$${hash.toString("base64")}`;
}

/** True when `password` is the one `stored` was made from; false for a malformed hash too. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  if (!SCRYPT_HASH.test(stored)) return false;
  const [, n, r, p, salt, hash] = stored.split("$") as [string, string, string, string, string, string];
  const N = Number(n);
  const R = Number(r);
  const P = Number(p);
  // a hash from the config may only ask for a bounded cost (a typo must not take 16 GiB)
  if (!Number.isSafeInteger(N) || N < 2 || N > 2 ** 20 || R < 1 || R > 32 || P < 1 || P > 16) return false;
  const expected = Buffer.from(hash, "base64");
  const actual = await scrypt(password, Buffer.from(salt, "base64"), expected.length, {
    N,
    r: R,
    p: P,
    maxmem: maxmem(N, R),
  });
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** A hash to compare against when the user does not exist, so an unknown name costs as much as a known one. */
export const DUMMY_HASH =
  "scrypt$131072$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
