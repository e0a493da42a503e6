/**
 * certrotor/client: for Node applications that call the bank with a credential certrotor rotates. It
 * follows the credential's current material in its store (or in files) and, through createBankSession,
 * keeps an mTLS agent and certificate-bound tokens on the current certificate. See docs/consumers/client.md.
 *
 * Loads only what the store kind needs: a file-store consumer never loads node-vault or the AWS SDK.
 */
export {
  type ClientLogger,
  type CredentialChange,
  CredentialWatcher,
  DEFAULT_EVERY_MS,
  type FileSourceOptions,
  type FileWatchOptions,
  type StoreEntry,
  type StoreWatchOptions,
  type Versioned,
  type WatchOptions,
  watchCredential,
} from "./watch.js";
export {
  type BankAuth,
  BankSession,
  type BankSessionExtras,
  type BankSessionOptions,
  createBankSession,
  type Rotated,
  type TokenOptions,
} from "./session.js";
export { CertrotorError, isCertrotorError } from "../errors.js";
export type { FieldMap, Material } from "../stores/types.js";
