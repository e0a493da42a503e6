/**
 * The secret-store contract against the AWS store with the harshest faults the emulator injects: a fifth of
 * all requests fail with 5xx, throttling, or a connection dropped before the request was processed or after
 * it was (the change is made, the answer is lost, the SDK retries). The SDK's retries and the adapter's
 * idempotent tokens and label re-checks must absorb it. Then the same contract on an eventually consistent
 * service: half the reads made within 300 ms of a write see the secret as it was before that write
 * (seeding waits that out, as an operator's write happens long before certrotor reads), which the adapter's
 * read-your-own-writes and confirm-before-refusing rules must absorb without a false conflict. (The healthy
 * run and a 5xx/throttling run are in contract.test.ts.)
 */
import { describeSecretStore } from "../contract/secret-store.contract.js";
import { startAwsFixture } from "./aws-fixture.js";

describeSecretStore(
  "aws with 20% injected 5xx, throttling and dropped connections (before and after commit)",
  () =>
    startAwsFixture({
      faults: { seed: 20, errorRate: 0.1, throttleRate: 0.04, dropRate: 0.03, dropAfterRate: 0.03 },
      maxAttempts: 8,
      name: "contract-aws-drops",
    }),
  { listTotal: 400, seedConcurrency: 16, pendingHints: true },
);

describeSecretStore(
  "aws with stale reads (half the reads within 300 ms of a write see the state before it)",
  () =>
    startAwsFixture({
      faults: { seed: 33, staleReadMs: 300, staleReadRate: 0.5 },
      consistencyWindow: 2_000,
      name: "contract-aws-stale",
    }),
  { listTotal: 200, seedConcurrency: 20, pendingHints: "eventually" },
);
