/**
 * A MaterialSource on a certrotor store, opened through the store registry (src/stores/index.ts), which
 * loads node-vault or the AWS SDK only for a store of that kind. The probe is the store's
 * CurrentVersionReader where it has one (Vault metadata, DescribeSecret, the file's identity); a store
 * without it, or a consumer whose policy refuses the cheap call, is polled with readCurrent.
 */
import { storeSchema, type StoreConfig } from "../config/schema.js";
import { CertrotorError, isCertrotorError } from "../errors.js";
import type { AdapterLogger } from "../observability/logger.js";
import { createStore } from "../stores/index.js";
import { type CredentialRef, type FieldMap, readsCurrentVersion, type SecretStore } from "../stores/types.js";
import type { MaterialSource, Versioned } from "./source.js";

/** The store entry as written in certrotor's config (`stores.<name>`), defaults not yet applied. */
export type StoreEntry = Parameters<typeof storeSchema.parse>[0];

export interface StoreSourceOptions {
  store: StoreEntry;
  /** Name of the store in messages (default "store"). */
  storeName?: string;
  /** The credential's location in the store, as certrotor's config `credentials[].path` and `fields`. */
  credential: { path: string; fieldMap?: FieldMap };
  env?: NodeJS.ProcessEnv;
  logger?: AdapterLogger;
}

function parseEntry(name: string, entry: StoreEntry): StoreConfig {
  const parsed = storeSchema.safeParse(entry);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map(
    (issue) => `${issue.path.join(".") || "(entry)"}: ${issue.message}`,
  );
  throw new CertrotorError("CONFIG_INVALID", `certrotor/client: store "${name}": ${problems.join("; ")}`, {
    hint: "pass the store entry exactly as in certrotor's config (stores.<name>)",
    details: { store: name },
  });
}

export async function openStoreSource(options: StoreSourceOptions): Promise<MaterialSource> {
  const name = options.storeName ?? "store";
  const config = parseEntry(name, options.store);
  const store: SecretStore = await createStore(name, config, {
    ...(options.env ? { env: options.env } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
  });
  const ref: CredentialRef = {
    credentialId: options.credential.path,
    path: options.credential.path,
    ...(options.credential.fieldMap ? { fieldMap: options.credential.fieldMap } : {}),
  };
  const label = `credential at "${ref.path}" in ${config.kind} store "${name}"`;
  let cheap = readsCurrentVersion(store);
  /** readCurrent's answer when the probe had to read it, so the read that follows does not repeat it. */
  let probed: Versioned | undefined;

  async function probe(): Promise<string> {
    if (cheap && readsCurrentVersion(store)) {
      try {
        return await store.currentVersion(ref);
      } catch (error) {
        if (!isCertrotorError(error, "ACCESS_DENIED")) throw error;
        // A consumer's policy may grant the secret but not its metadata (Vault) or DescribeSecret (AWS).
        cheap = false;
        options.logger?.warn(
          { store: name, path: ref.path },
          "the store refused the version-only call; polling the material itself",
        );
      }
    }
    const current = await store.readCurrent(ref);
    probed = { material: current.material, version: current.version };
    return current.version;
  }

  return {
    label,
    probe,
    async read() {
      const stored = probed ?? (await store.readCurrent(ref));
      probed = undefined;
      return { material: stored.material, version: stored.version };
    },
    close: () => store.close(),
  };
}
