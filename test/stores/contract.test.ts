/**
 * Runs the secret-store contract (test/contract/secret-store.contract.ts) against every adapter:
 * the file store, and Vault and AWS through their real clients against the wire-level emulators.
 */
import { describeSecretStore } from "../contract/secret-store.contract.js";
import { makeFileHarness } from "./file-harness.js";

describeSecretStore("file", () => makeFileHarness());
