/**
 * Runs the secret-store contract (test/contract/secret-store.contract.ts) against the file store and,
 * through the real AWS SDK, against the Secrets Manager emulator: healthy, and with a fifth of requests
 * answered 5xx or throttled. The Vault runs (healthy and faulted) are in vault-contract.test.ts and the
 * AWS run with dropped connections in aws-contract.test.ts, beside their adapters' own tests.
 */
import { describeSecretStore } from "../contract/secret-store.contract.js";
import { startAwsFixture } from "./aws-fixture.js";
import { makeFileHarness } from "./file-harness.js";

describeSecretStore("file", () => makeFileHarness(), { pendingHints: false });

describeSecretStore("aws", () => startAwsFixture({ name: "contract-aws" }), { pendingHints: true });

describeSecretStore(
  "aws with 20% injected 5xx and throttling",
  () =>
    startAwsFixture({
      name: "contract-aws-faults",
      faults: { seed: 7, errorRate: 0.1, throttleRate: 0.1 },
      maxAttempts: 8,
    }),
  { listTotal: 400, seedConcurrency: 16, pendingHints: true },
);
