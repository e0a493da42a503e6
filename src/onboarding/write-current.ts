/**
 * Makes operator-given material current (import, rollback) through the store port's own two calls:
 * stage it under a write id, then promote with compare-and-set against the current version that was
 * read and checked. Every store kind keeps the replaced material as previous, and a write that raced a
 * rotation fails with CAS_CONFLICT leaving nothing behind. A credential with no current material yet has
 * no version to compare with: the file store writes its first version directly, Vault promotes with
 * cas=0 (only if the key still does not exist); AWS cannot (a secret's first version is current at once).
 */
import { randomUUID } from "node:crypto";
import { CertrotorError, isCertrotorError } from "../errors.js";
import type { FileSecretStore } from "../stores/file.js";
import type { CredentialRef, Material, SecretStore, StoredMaterial } from "../stores/types.js";

function isFileStore(store: SecretStore): store is FileSecretStore {
  return store.kind === "file" && "putCurrent" in store;
}

/** A write id in the rotation-id field of the material it writes (what the store's promote keys on). */
export function newWriteId(kind: "import" | "rollback"): string {
  return `${kind}-${randomUUID()}`;
}

/** The current material, or null when the credential has none in the store yet. */
export async function readCurrentOrNull(
  store: SecretStore,
  ref: CredentialRef,
): Promise<StoredMaterial | null> {
  try {
    return await store.readCurrent(ref);
  } catch (error) {
    if (isCertrotorError(error, "NOT_FOUND")) return null;
    throw error;
  }
}

export async function writeCurrent(
  store: SecretStore,
  ref: CredentialRef,
  material: Material,
  writeId: string,
  expected: StoredMaterial | null,
): Promise<StoredMaterial> {
  const stamped: Material = { ...material, rotationId: writeId };
  if (expected === null && isFileStore(store)) return store.putCurrent(ref, stamped);
  if (expected === null && store.kind === "aws") {
    throw new CertrotorError(
      "NOT_FOUND",
      `AWS Secrets Manager store "${store.name}": secret "${ref.path}" of credential "${ref.credentialId}" does not exist or has no current value; nothing was written`,
      {
        hint: "create the secret with the credential's material first (aws secretsmanager create-secret), or import into a file or Vault store",
        details: { store: store.name, path: ref.path },
      },
    );
  }
  await store.writePending(ref, writeId, stamped);
  try {
    return await store.promote(ref, writeId, expected?.version ?? "0");
  } catch (error) {
    await store.dropPending(ref, writeId).catch(() => undefined);
    throw error;
  }
}
