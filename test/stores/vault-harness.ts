/**
 * Contract harness for the Vault KV v2 adapter against the wire-level Vault emulator, through the real
 * node-vault client. The store runs with a token whose policy grants exactly what the Vault policy of docs/deploy/vault.md
 * lists; seeding and corrupting are KV writes by an operator's root client (retried through injected
 * faults, as an operator's tooling would); `denyAll` is the adapter with a token that may do nothing.
 */
import nodeVault from "node-vault";
import { storeSchema, type VaultStoreConfig } from "../../src/config/schema.js";
import { encodeMaterial } from "../../src/stores/material.js";
import type { SecretStore } from "../../src/stores/types.js";
import { createVaultStore } from "../../src/stores/vault.js";
import type { StoreHarness } from "../contract/secret-store.contract.js";
import {
  type FaultOptions,
  type PathRule,
  startVaultEmulator,
  type VaultEmulator,
} from "../emulators/vault/server.js";

export interface VaultHarnessOptions {
  /** Faults switched on once the harness is built. */
  faults?: FaultOptions;
  mount?: string;
  logger?: (line: object) => void;
}

/** What the store needs on `<mount>/` (docs/deploy/vault.md: Vault policy). */
export function storePolicy(mount = "secret"): PathRule[] {
  return [
    { path: `${mount}/data/*`, capabilities: ["create", "read", "update"] },
    { path: `${mount}/metadata/*`, capabilities: ["read", "list", "delete"] },
  ];
}

export function vaultStoreConfig(
  emulator: VaultEmulator,
  token: string,
  extra: object = {},
): VaultStoreConfig {
  const parsed = storeSchema.parse({
    kind: "vault",
    address: emulator.url,
    auth: { method: "token", token },
    ...extra,
  });
  if (parsed.kind !== "vault") throw new Error("expected a vault store config");
  return parsed;
}

/** Retries an operator call through injected 5xx and dropped connections (node-vault has no retries). */
async function persist<T>(call: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      const status = (error as { response?: { statusCode?: number } }).response?.statusCode;
      const transient = status === undefined || status >= 500 || status === 429;
      if (!transient || attempt >= 20) throw error;
    }
  }
}

export async function makeVaultHarness(
  options: VaultHarnessOptions = {},
): Promise<StoreHarness & { emulator: VaultEmulator }> {
  const emulator = await startVaultEmulator();
  const mount = options.mount ?? "secret";
  const admin = nodeVault({ endpoint: emulator.url, token: emulator.rootToken });
  const write = async (path: string, doc: Record<string, unknown>, tags?: Record<string, string>) => {
    await persist(() => admin.write(`${mount}/data/${path}`, { data: doc }));
    if (tags) await persist(() => admin.write(`${mount}/metadata/${path}`, { custom_metadata: tags }));
  };
  const storeToken = emulator.createToken({ paths: storePolicy(mount) });
  const open = (name: string, token: string): Promise<SecretStore> =>
    createVaultStore(name, vaultStoreConfig(emulator, token, { mount }), {
      ...(options.logger ? { logger: options.logger } : {}),
    });
  const store = await open("contract-vault", storeToken);
  if (options.faults) emulator.setFaults(options.faults);
  return {
    emulator,
    store,
    seed: (ref, material, tags) => write(ref.path, encodeMaterial(material, ref.fieldMap), tags),
    corrupt: (ref, doc) => write(ref.path, doc),
    denyAll: () => open("contract-vault-denied", emulator.createToken({ paths: [] })),
    cleanup: () => emulator.stop(),
    deniedMessage: /permission denied/,
  };
}
