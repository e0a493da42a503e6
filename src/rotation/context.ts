/**
 * What one rotation works with: its ports (already built for this credential) and its state, which each
 * step rebuilds by looking at the world (store, bank) rather than trusting a stored pointer.
 */
import type { BankClient } from "../bank/types.js";
import type { CertificateInfo } from "../crypto/index.js";
import type { Issuer } from "../issuers/types.js";
import type { Journal, RotationRecord, StepName } from "../journal/types.js";
import type { KeptLock } from "../locks/hold.js";
import type { LockManager } from "../locks/types.js";
import type { Logger } from "../observability/logger.js";
import type { Material, PendingMaterial, SecretStore, StoredMaterial } from "../stores/types.js";
import type { ResolvedCredential } from "./credentials.js";

export type Trigger = RotationRecord["trigger"];

/** Named points where tests inject faults (a crash, a bank change); never used for timing. */
export type HookPoint = `${StepName}:${"start" | "effect" | "end"}`;

export interface RotationHooks {
  at(point: HookPoint, state: Readonly<RotationState>): void | Promise<void>;
}

/** The per-credential rotation lock while held (see lock.ts): renewed in the background until released. */
export type HeldLock = KeptLock;

export interface RotationDeps {
  store: SecretStore;
  bank: BankClient;
  issuer: Issuer;
  journal: Journal;
  locks: LockManager;
  logger: Logger;
  now: () => Date;
  /** Also make the protected probe call in verify (bank config `probe.accountId`). */
  probeAccountId?: string;
  hooks?: RotationHooks;
  /** Lease length of the per-credential lock; renewed between steps. */
  lockTtlMs?: number;
  /** Who this process is, for lock ownership and logs. */
  owner?: string;
}

export interface RotationState {
  rotationId: string;
  credential: ResolvedCredential;
  trigger: Trigger;
  force: boolean;
  lock?: HeldLock;
  /** Current material as read in plan, with its store version (the CAS token for promote). */
  current?: StoredMaterial;
  currentInfo?: CertificateInfo;
  /** client_id as stored (falls back to config). */
  clientId: string;
  /** A pending version found in the store (ours or a leftover). */
  pending?: PendingMaterial | null;
  /** Fingerprints of leftover material certrotor staged earlier: candidates for a stale slot. */
  staleOwnFingerprints: string[];
  /** Key and CSR of this attempt (memory only; never journaled). */
  fresh?: { keyPem: string; csrPem: string; certPem?: string; chainPem?: string };
  /** Staged material of this rotation. */
  staged?: Material;
  /** True once current holds this rotation's material. */
  promoted: boolean;
  oldFingerprint?: string;
  record?: RotationRecord;
}

export type RotationOutcome =
  | { status: "not-due"; message: string; renewAt: Date }
  | { status: "succeeded"; record: RotationRecord }
  | { status: "retire-due"; record: RotationRecord; retireDueAt: Date }
  | { status: "consumers-on-old-cert"; record: RotationRecord };
