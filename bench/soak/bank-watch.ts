/**
 * The bank's side of the story, independent of certrotor's journal: every successful unbind the sandbox
 * answered (when, which credential, which certificate, how many stayed bound) and every bind (how many were
 * bound after it). The final check compares the unbinds with the promotions (invariant 4) and flags any
 * instant a credential was left with no bound certificate (invariant 1) or more than two (invariant 2).
 */
import type { SandboxHandle, SandboxLogEntry } from "../../src/sandbox/server.js";

export interface BankUnbind {
  atMs: number;
  clientId: string;
  fingerprint: string;
  /** Certificates still bound right after the unbind. */
  remaining: number;
}

export interface BankWatch {
  readonly unbinds: BankUnbind[];
  /** Violations seen the instant they happened (bank side). */
  readonly violations: Array<{ clientId: string; violation: string }>;
  onRequest(entry: SandboxLogEntry): void;
  attach(sandbox: SandboxHandle): void;
}

const CERTS_PATH = /^\/admin\/v1\/credentials\/([^/]+)\/certificates(?:\/([^/]+))?$/;

export function watchBank(): BankWatch {
  let sandbox: SandboxHandle | undefined;
  const unbinds: BankUnbind[] = [];
  const violations: BankWatch["violations"] = [];
  return {
    unbinds,
    violations,
    attach(handle) {
      sandbox = handle;
    },
    onRequest(entry) {
      if (!sandbox) return;
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
