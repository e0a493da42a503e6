/**
 * What one rotation works with: its ports (already built for this credential), and the phases its state
 * goes through. Each phase is a type that holds exactly what the steps before it established, so a step
 * reads only what exists by then (no optional bag read with `!`):
 *
 *   plan → Planned ("fresh": rotate from the current material, or "promoted": only retire is left)
 *   generate → Generated (key + CSR, memory only) → issue → Issued (+ cert, chain) → stage → Staged
 *   register, verify, promote take the Staged material; retire and done take the Promoted rotation.
 */
import type { BankClient } from "../bank/types.js";
import type { CertificateInfo, PfxKeysAhead } from "../crypto/index.js";
import type { Issuer } from "../issuers/types.js";
import type { Journal, RotationRecord, StepName } from "../journal/types.js";
import type { KeptLock } from "../locks/hold.js";
import type { LockManager } from "../locks/types.js";
import type { Logger } from "../observability/logger.js";
import type { Material, PendingMaterial, SecretStore, StoredMaterial } from "../stores/types.js";
import type { TasksConfig } from "../config/schema.js";
import type { HumanTask, TaskStore } from "../tasks/types.js";
import type { ResolvedCredential } from "./credentials.js";

export type Trigger = RotationRecord["trigger"];

/**
 * Named points where tests inject faults (a crash, a pause, a bank change); never used for timing. Beside
 * each step's start and end of work (`effect`): right after the effects a step makes one after another
 * (a task opened before the token call, the old certificate unbound before the new one is bound) and
 * right after a rotation parked on a human task, so a crash test can stop between any two of them.
 */
export type HookPoint =
  | `${StepName}:${"start" | "effect" | "end" | "parked"}`
  | "register:task-opened"
  | "register:unbound"
  | "retire:task-opened"
  /** A failed cut-over's rollback rebound the old certificate (rollback.ts), before its journal writes. */
  | "rollback:rebound";

export interface RotationHooks {
  at(point: HookPoint, where: { credentialId: string; rotationId: string }): void | Promise<void>;
}

/**
 * Progress of one attempt, as typed events for observers (the CLI's step lines, the job's progress, the
 * step-duration metrics). A step-finished event follows every step-started one, also when the step threw.
 */
export type RotationEvent =
  | { kind: "step-started"; step: StepName; credentialId: string; rotationId: string }
  | {
      kind: "step-finished";
      step: StepName;
      credentialId: string;
      rotationId: string;
      /** Monotonic clock, never the injected `now`. */
      ms: number;
      ok: boolean;
    }
  | { kind: "promoted"; credentialId: string; rotationId: string; fingerprint: string; notAfter: Date }
  /**
   * A single-slot bank's cut-over: `started` right before the old certificate is unbound (consumers lose
   * the bank until the new one is live), `ended` once the new one verified and was promoted (current),
   * with the measured outage.
   */
  | {
      kind: "cut-over";
      phase: "started" | "ended";
      credentialId: string;
      rotationId: string;
      oldFingerprint: string;
      newFingerprint: string;
      outageMs?: number;
    };

export type RotationObserver = (event: RotationEvent) => void | Promise<void>;

/** The per-credential rotation lock while held (see lock.ts): renewed in the background until released. */
export type HeldLock = KeptLock;

/** How the bank takes a new certificate (bank config `registration`, `maxSlots`, `portalUrl`). */
export interface BankProfile {
  /** `api`: its slot API; `manual`: a person in its portal (a human task); `none`: it trusts the CA. */
  registration: "api" | "manual" | "none";
  maxSlots: 1 | 2;
  portalUrl?: string;
}

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
  observers?: readonly RotationObserver[];
  /** Lease length of the per-credential lock; renewed while the rotation runs. */
  lockTtlMs?: number;
  /** Who this process is, for lock ownership and logs. */
  owner?: string;
  /** Absent: `api` with 2 slots (the slot API binds). */
  bankProfile?: BankProfile;
  /** Where human tasks live (needed by `registration: manual`). */
  tasks?: TaskStore;
  /** Deadlines and polling of human tasks (config `tasks`; defaults when absent). */
  taskPolicy?: TasksConfig;
}

/** What every phase knows: which rotation of which credential, started how, under which lock. */
export interface RotationBase {
  rotationId: string;
  credential: ResolvedCredential;
  trigger: Trigger;
  force: boolean;
  lock: HeldLock;
  /** client_id as stored (checked against the config's in plan). */
  clientId: string;
}

/** plan found current material to rotate from (a new rotation, or one resumed before promote). */
export interface FreshPlan extends RotationBase {
  phase: "fresh";
  /** Current material with its store version (the CAS token for promote). */
  current: StoredMaterial;
  currentInfo: CertificateInfo;
  /** The certificate being replaced. */
  oldFingerprint: string;
  /** This rotation's pending material from an earlier attempt: generate, issue and stage are done. */
  pending: PendingMaterial | null;
}

/** The store's current material is this rotation's own: only retire is left. */
export interface PromotedPlan extends RotationBase {
  phase: "promoted";
  current: StoredMaterial;
  oldFingerprint?: string;
}

export type Planned = FreshPlan | PromotedPlan;

/** generate: a new key and a CSR copying the current subject (memory only, never journaled). */
export interface Generated {
  keyPem: string;
  csrPem: string;
  /** The PFX's passphrase and keys, being derived while the certificate is issued (credentials with pfx). */
  pfxKeys?: PfxKeysAhead;
}

/** issue: the checked certificate for the generated key. */
export interface Issued extends Generated {
  certPem: string;
  chainPem: string;
}

/** stage: the material written as pending, bound, verified and promoted by the steps after it. */
export type Staged = Material;

/** What register did: bound (slot API), nothing to bind (the bank trusts the CA), or the human task's state. */
export type Registration =
  | { how: "bound" }
  | { how: "trusted" }
  | { how: "confirmed"; task: HumanTask }
  | { how: "awaiting"; task: HumanTask };

/** A rotation whose material is current: what retire and done work on. */
export interface Promoted extends RotationBase {
  record: RotationRecord;
  oldFingerprint?: string;
}

export type RotationOutcome =
  | { status: "not-due"; message: string; renewAt: Date }
  | { status: "succeeded"; record: RotationRecord }
  /** `task`: an unbind-certificate task the old certificate waits on (a portal bank). */
  | { status: "retire-due"; record: RotationRecord; retireDueAt: Date; task?: HumanTask }
  | { status: "consumers-on-old-cert"; record: RotationRecord }
  /**
   * Parked on a human task (manual registration): nothing more to do until the person acted; look again
   * (a token call with the new material) at `checkAgainAt`. No lock is held while parked.
   */
  | { status: "awaiting-registration"; record: RotationRecord; task: HumanTask; checkAgainAt: Date }
  /** The rotation had already finished (a job run again after another worker completed it): nothing done. */
  | { status: "finished"; record: RotationRecord };
