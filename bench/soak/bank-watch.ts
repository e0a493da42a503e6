/**
 * The bank's side of the story, independent of certrotor's journal: every successful unbind the sandbox
 * answered (when, which credential, which certificate, how many stayed bound), every bind (how many were
 * bound after it) and every certificate it signed (when, for which rotation: the `bank` issuer's
 * Idempotency-Key starts with the rotation id). The final check compares the unbinds with the promotions
 * (invariant 4), the signatures with each rotation's staging and end (no certificate issued twice for one
 * rotation), and flags any instant a credential was left with no bound certificate (invariant 1) or more
 * than two (invariant 2).
 */
import type { SandboxHandle, SandboxLogEntry } from "../../src/sandbox/server.js";

export interface BankUnbind {
  atMs: number;
  clientId: string;
  fingerprint: string;
  /** Certificates still bound right after the unbind. */
  remaining: number;
}

/** A certificate the bank signed (a CSR request answered 201; a 200 is the same key's certificate again). */
export interface BankSign {
  atMs: number;
  rotationId: string;
}

export interface BankWatch {
  readonly unbinds: BankUnbind[];
  readonly signs: BankSign[];
  /** Violations seen the instant they happened (bank side). */
  readonly violations: Array<{ clientId: string; violation: string }>;
  onRequest(entry: SandboxLogEntry): void;
  attach(sandbox: SandboxHandle): void;
}

const CERTS_PATH = /^\/admin\/v1\/credentials\/([^/]+)\/certificates(?:\/([^/]+))?$/;
const SIGN_PATH = "/admin/v1/certificate-requests";
/** The bank issuer's key: `<rotationId>-<CSR digest>` (src/issuers/bank.ts). */
const ROTATION_OF_KEY = /^(rot_[0-9a-f]+)-/;

export function watchBank(): BankWatch {
  let sandbox: SandboxHandle | undefined;
  const unbinds: BankUnbind[] = [];
  const signs: BankSign[] = [];
  const violations: BankWatch["violations"] = [];
  return {
    unbinds,
    signs,
    violations,
    attach(handle) {
      sandbox = handle;
    },
    onRequest(entry) {
      if (!sandbox) return;
      if (entry.method === "POST" && entry.path === SIGN_PATH && entry.status === 201) {
        const rotationId =
          ROTATION_OF_KEY.exec(entry.idempotencyKey ?? "")?.[1] ?? `key:${entry.idempotencyKey}`;
        signs.push({ atMs: Date.parse(entry.at), rotationId });
        return;
      }
      const match = CERTS_PATH.exec(entry.path);
      if (!match) return;
      const clientId = decodeURIComponent(match[1]!);
      if (entry.method === "DELETE" && entry.status === 204 && match[2]) {
        // the sandbox reports after answering, on the same tick as the state change: nothing ran between
        const remaining = sandbox.boundCertificates(clientId).length;
        unbinds.push({
          atMs: Date.parse(entry.at),
          clientId,
          fingerprint: match[2].toLowerCase(),
          remaining,
        });
        if (remaining === 0)
          violations.push({
            clientId,
            violation: `1 (bank): no certificate bound after unbinding ${match[2].slice(0, 12)}`,
          });
      } else if (entry.method === "POST" && (entry.status === 201 || entry.status === 200) && !match[2]) {
        const bound = sandbox.boundCertificates(clientId).length;
        if (bound > 2) violations.push({ clientId, violation: `2 (bank): ${bound} certificates bound` });
      }
    },
  };
}
