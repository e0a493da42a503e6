/**
 * The bank's issuing CA as the config names it (`issuers.<name>.caFile`): read at each use, so an
 * operator who replaces the file (the bank rolled its CA) needs no restart.
 */
import { readFile } from "node:fs/promises";
import { CertrotorError } from "../errors.js";

/** Reads `caFile` as PEM text; an unreadable file is CONFIG_NOT_FOUND naming the field, with `hint`. */
export function readCaFile(issuer: string, caFile: string, hint: string): Promise<string> {
  return readFile(caFile, "utf8").catch((error: unknown) => {
    throw new CertrotorError("CONFIG_NOT_FOUND", `issuers.${issuer}.caFile: ${caFile} cannot be read`, {
      cause: error,
      hint,
    });
  });
}
