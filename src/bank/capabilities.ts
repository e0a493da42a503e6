/**
 * The optional capabilities of a bank (types.ts), asked for by callers that need one: a bank without it
 * fails with NOT_SUPPORTED naming the bank and its kind, never with a TypeError on a missing method.
 */
import { CertrotorError } from "../errors.js";
import type { BankClient, CsrSigner, SlotRegistry } from "./types.js";

/** The bank's slot API; NOT_SUPPORTED for a bank that has none (certificates are bound some other way). */
export function requireSlots(bank: BankClient): SlotRegistry {
  if (bank.slots) return bank.slots;
  throw new CertrotorError(
    "NOT_SUPPORTED",
    `bank "${bank.name}" (kind ${bank.kind}) has no slot API: its certificates cannot be listed, bound or unbound by certrotor`,
    {
      hint: "a bank without a slot API needs registration: manual (bound in the bank's portal) or none (the bank trusts the issuing CA)",
      details: { bank: bank.name, kind: bank.kind },
    },
  );
}

/** The bank's CSR-signing API; NOT_SUPPORTED for a bank that has none. */
export function requireSigner(bank: BankClient): CsrSigner {
  if (bank.signer) return bank.signer;
  throw new CertrotorError(
    "NOT_SUPPORTED",
    `bank "${bank.name}" (kind ${bank.kind}) does not sign CSRs through an API`,
    {
      hint: "use an issuer whose CA certrotor can reach (local-ca, vault-pki), or a bank of kind banking-api for issuer kind bank",
      details: { bank: bank.name, kind: bank.kind },
    },
  );
}
