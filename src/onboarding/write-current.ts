/**
 * Makes operator-given material current (import, rollback) through the store port's own two calls:
 * stage it under a write id, then promote with compare-and-set against the current version that was
 * read and checked. Every store kind keeps the replaced material as previous, and a write that raced a
 * rotation fails with CAS_CONFLICT leaving nothing behind. A credential with no current material yet has
 * no version to compare with: the file store writes its first version directly, Vault promotes with
 * cas=0 (only if the key still does not exist), AWS writes into the empty secret (FirstVersionWriter:
 * staging there would make the material current at once anyway). AWS secrets are never created: the
 * secret itself (its name, tags, KMS key, policy) is the operator's.
 */
import { randomUUID } from "node:crypto";
import { isCertrotorError } from "../errors.js";
import type { FileSecretStore } from "../stores/file.js";
import type {
  CredentialRef,
  FirstVersionWriter,
  Material,
  SecretStore,
  StoredMaterial,
} from "../stores/types.js";

function writesFirstVersion(store: SecretStore): store is SecretStore & FirstVersionWriter {
  return "writeFirstVersion" in store && typeof store.writeFirstVersion === "function";
}

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
  if (expected === null && writesFirstVersion(store)) return store.writeFirstVersion(ref, writeId, stamped);
  await store.writePending(ref, writeId, stamped);
  try {
    return await store.promote(ref, writeId, expected?.version ?? "0");
  } catch (error) {
    await store.dropPending(ref, writeId).catch(() => undefined);
    throw error;
  }
}
