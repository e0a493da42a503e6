/**
 * The secret-store contract against the Vault KV v2 store, through the real node-vault client and the
 * wire-level Vault emulator: once on a healthy Vault, once with a fifth of all requests failing (500/503,
 * connections dropped before the request is handled, and after it took effect), which the adapter's
 * retries and idempotency must absorb without a visible difference.
 */
import { describeSecretStore } from "../contract/secret-store.contract.js";
import { makeVaultHarness } from "./vault-harness.js";

describeSecretStore("vault", () => makeVaultHarness(), { pendingHints: true });

describeSecretStore(
  "vault with 20% injected 5xx and dropped connections",
  () => makeVaultHarness({ faults: { seed: 20, failRate: 0.12, dropRate: 0.04, dropAfterRate: 0.04 } }),
  { listTotal: 400, seedConcurrency: 16, pendingHints: true },
);
