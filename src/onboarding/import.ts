/**
 * `certrotor import`: bring a credential's existing material into its store as current. Order: check the
 * files (import-check.ts), prove the material with a token call at the bank (unless told not to), then,
 * holding the credential's rotation lock, write it as current with compare-and-set. The token call comes
 * before the write so that material the bank refuses never becomes what consumers read.
 */
import { CertrotorError, isCertrotorError } from "../errors.js";
import type { Issuer } from "../issuers/types.js";
import { acquireRotationLock, OPERATOR_LOCK_WAIT_MS } from "../rotation/lock.js";
import type { ResolvedCredential } from "../rotation/credentials.js";
import type { Runtime } from "../runtime.js";
import type { Material, StoredMaterial } from "../stores/types.js";
import { checkImport } from "./import-check.js";
import type { ImportInput } from "./import-input.js";
import { newWriteId, readCurrentOrNull, writeCurrent } from "./write-current.js";

export interface ImportResult {
  fingerprint: string;
  notAfter: string;
  /** The store already held exactly this certificate, key and client secret: nothing was written. */
  unchanged: boolean;
  /** The bank issued a token for the material (false with --no-verify). */
  verified: boolean;
  replacedFingerprint?: string;
}

/** Under the credential's rotation lock: current as checked, then the write and its audit event. */
async function writeImported(
  runtime: Runtime,
  credential: ResolvedCredential,
  material: Material,
  before: StoredMaterial | null,
  details: { operator: string; verified: boolean; replaced?: string },
): Promise<void> {
  const deps = runtime.depsFor(credential);
  const lock = await acquireRotationLock(deps, credential.id, OPERATOR_LOCK_WAIT_MS);
  try {
    // read again under the lock: the compare-and-set is against what no rotation can change meanwhile
    const current = await readCurrentOrNull(deps.store, credential.ref);
    if ((current?.version ?? null) !== (before?.version ?? null)) {
      throw new CertrotorError(
        "CAS_CONFLICT",
        `credential "${credential.id}": its current material changed while import checked the files; nothing was written`,
        { hint: "run certrotor import again" },
      );
    }
    const writeId = newWriteId("import");
    await lock.lease.check();
    await writeCurrent(deps.store, credential.ref, material, writeId, current);
    await deps.journal.audit(
      {
        at: runtime.now().toISOString(),
        credentialId: credential.id,
        rotationId: writeId,
        action: "imported",
        actor: "operator",
        details: { fingerprint: material.fingerprint, ...details },
      },
      lock.lease,
    );
  } finally {
    await lock.release();
  }
}

/**
 * The issuer's CA bundle to check the imported certificate against. A bank issuer learns its CA from its
 * first signature: without `caFile`, the import goes on with the bank's token call as the only proof
 * (the bank accepting the certificate for this client is what matters), and is refused without it.
 */
async function issuerBundle(
  issuer: Issuer,
  credential: ResolvedCredential,
  verify: boolean,
): Promise<string | undefined> {
  try {
    return await issuer.trustBundle();
  } catch (error) {
    if (!(issuer.kind === "bank" && isCertrotorError(error, "NOT_SUPPORTED"))) throw error;
    if (verify) return undefined;
    throw new CertrotorError(
      "BAD_ARGUMENT",
      `credential "${credential.id}": issuer "${credential.issuer}" knows the bank's CA only after it signed, so the certificate can only be proven by a token call; nothing was written`,
      { hint: `drop --no-verify, or set issuers.${credential.issuer}.caFile to the bank's issuing CA` },
    );
  }
}

export async function importCredential(
  runtime: Runtime,
  credential: ResolvedCredential,
  input: ImportInput,
  options: { verify: boolean; operator: string },
): Promise<ImportResult> {
  const deps = runtime.depsFor(credential);
  const before = await readCurrentOrNull(deps.store, credential.ref);
  const clientId = credential.clientId || before?.material.clientId;
  if (!clientId) {
    throw new CertrotorError(
      "BAD_ARGUMENT",
      `credential "${credential.id}" has no clientId in the config and none in the store; nothing was written`,
      { hint: "set credentials[].clientId in the config to the bank's client_id" },
    );
  }
  const trustBundlePem = await issuerBundle(deps.issuer, credential, options.verify);
  const material = checkImport(input, {
    credentialId: credential.id,
    clientId,
    pfx: credential.pfx,
    ...(trustBundlePem !== undefined ? { trustBundlePem } : {}),
    issuerName: credential.issuer,
    now: runtime.now(),
  });
  if (options.verify) {
    await deps.bank.verify(
      {
        certPem: material.certPem,
        keyPem: material.keyPem,
        ...(material.chainPem ? { chainPem: material.chainPem } : {}),
      },
      { clientId, clientSecret: input.clientSecret },
      deps.probeAccountId ? { probeAccountId: deps.probeAccountId } : {},
    );
  }
  const same =
    before !== null &&
    before.material.fingerprint === material.fingerprint &&
    before.material.keyPem === material.keyPem &&
    before.material.clientSecret === material.clientSecret;
  const result = {
    fingerprint: material.fingerprint,
    notAfter: material.notAfter,
    verified: options.verify,
    ...(before && !same ? { replacedFingerprint: before.material.fingerprint } : {}),
  };
  if (same) return { ...result, unchanged: true };
  await writeImported(runtime, credential, material, before, {
    operator: options.operator,
    verified: options.verify,
    ...(result.replacedFingerprint ? { replaced: result.replacedFingerprint } : {}),
  });
  return { ...result, unchanged: false };
}
