/**
 * Cheap insurance for invariant 7: the journal refuses to store anything that looks like secret
 * material, so a bug that puts a key or a token into a record fails loudly in tests instead of leaking.
 *
 * What counts (values and keys, recursively):
 * - any PEM armor line (`-----BEGIN ...-----`): the journal has no business holding PEM at all;
 * - a run of ≥ 64 base64/base64url characters that mixes upper case, lower case and digits and has
 *   fewer than one `/ - _` per 16 characters — a PEM body line, PFX bytes, a JWT segment, a Vault token.
 *   SHA-256 fingerprints (lowercase hex) and store paths (`secret/data/banks/...`) pass;
 * - a Vault token by its prefix (`hvs.`, `hvb.`, `hvr.` and 20+ token characters): a random token body has
 *   as many `-` and `_` as chance gives it (one in 32 characters on average), so the separator rule above
 *   alone would let about one in 13 through.
 * It cannot recognise a short opaque secret (a 32-character client_secret); that is what the redaction
 * in logs and the "references, never secrets" rule for callers are for.
 */
import { CertrotorError } from "../errors.js";

const PEM_ARMOR = /-----BEGIN [A-Z0-9 ]+-----/;
const BASE64_RUN = /[A-Za-z0-9+/=_-]{64,}/g;
const VAULT_TOKEN = /\bhv[sbr]\.[A-Za-z0-9_-]{20,}/;

function looksLikeBlob(run: string): boolean {
  if (!/[A-Z]/.test(run) || !/[a-z]/.test(run) || !/[0-9]/.test(run)) return false;
  const separators = run.replace(/[^/_-]/g, "").length;
  return separators * 16 < run.length;
}

/** Why `text` looks secret, or null. */
export function secretShape(text: string): string | null {
  if (PEM_ARMOR.test(text)) return /PRIVATE KEY/.test(text) ? "a PEM private key block" : "a PEM block";
  if (VAULT_TOKEN.test(text)) return "a Vault token";
  for (const run of text.match(BASE64_RUN) ?? []) {
    if (looksLikeBlob(run)) return `a ${run.length}-character base64 blob`;
  }
  return null;
}

function visit(value: unknown, path: string, found: (path: string, why: string) => void): void {
  if (typeof value === "string") {
    const why = secretShape(value);
    if (why) found(path, why);
  } else if (value !== null && typeof value === "object") {
    for (const [key, inner] of Object.entries(value)) {
      const why = secretShape(key);
      if (why) found(`${path} key`, why);
      visit(inner, path ? `${path}.${key}` : key, found);
    }
  }
}

/** Throws INTERNAL naming the field (never echoing the value) when `value` holds secret-looking text. */
export function assertNoSecrets(value: unknown, what: string): void {
  visit(value, "", (path, why) => {
    throw new CertrotorError(
      "INTERNAL",
      `journal: refused to write ${what}: field "${path}" looks like secret material (${why})`,
      { details: { field: path } },
    );
  });
}
