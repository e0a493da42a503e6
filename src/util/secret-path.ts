/**
 * The one check of a path handed to a secret store (a Vault KV path, a file-store name, an AWS secret
 * name, the local CA's path): not empty, no control characters, no `.` or `..` segment. Shared by config
 * loading and the adapters, so `../../sys/seal` is refused in the config and can never reach Vault's
 * `sys/seal` route through a path that was discovered or built at run time either.
 */
import { CertrotorError } from "../errors.js";

/** Why `path` cannot name a secret, or undefined when it can. Never echoes the path itself. */
export function secretPathProblem(path: string): string | undefined {
  if (path.length === 0) return "is empty";
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what is refused
  if (/[\u0000-\u001f\u007f]/.test(path)) return "holds control characters";
  if (path.split("/").some((segment) => segment === "." || segment === "..")) {
    return "has a '.' or '..' segment";
  }
  return undefined;
}

/** Throws BAD_ARGUMENT naming `where` when `path` cannot name a secret (see secretPathProblem). */
export function assertSecretPath(path: string, where: string): void {
  const problem = secretPathProblem(path);
  if (problem === undefined) return;
  const shown = JSON.stringify(path).slice(1, -1).slice(0, 200);
  throw new CertrotorError("BAD_ARGUMENT", `${where} path "${shown}" is not allowed: it ${problem}`, {
    details: { where },
  });
}
