/** Where a watcher reads material from: a certrotor store, or files another tool writes. */
import type { Material } from "../stores/types.js";

/** One read of the material with its version (store version, or a hash of the files' contents). */
export interface Versioned {
  material: Material;
  version: string;
}

export interface MaterialSource {
  /** Names the material in messages (store and path, or the certificate file): never a value. */
  readonly label: string;
  /**
   * A cheap token that changes whenever the material may have changed (a store's current version, the
   * files' identity). Equal tokens mean `read` would answer what it answered before.
   */
  probe(): Promise<string>;
  /** The material now; the watcher checks it before switching. */
  read(): Promise<Versioned>;
  close(): Promise<void>;
}
