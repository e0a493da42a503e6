/**
 * Failure episodes in the local state directory, for `rotate --inline` and `retire-due` run by hand or from
 * cron without Redis: an episode outlives the process that opened it, so the next failing run alerts
 * nothing and the next success resolves it. Layout: `<dir>/<credential>/<kind>` holding when it opened.
 * Opening is an exclusive create (link(2)), so of two processes failing at once only one alerts.
 */
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import {
  createExclusive,
  ensureDir,
  errnoOf,
  readText,
  removeFile,
  safeName,
  stateError,
} from "../state/files.js";
import { type EpisodeStore, episodesOf, type OpenEpisode } from "./episodes.js";

/** `dir`: the runtime passes `<stateDir>/alerts/episodes`. */
export function createFileEpisodes(dir: string): EpisodeStore {
  const folder = (credentialId: string): string => join(dir, safeName(credentialId));

  const list = async (credentialId: string): Promise<OpenEpisode[]> => {
    let names: string[];
    try {
      names = await readdir(folder(credentialId));
    } catch (error) {
      if (errnoOf(error) === "ENOENT") return [];
      throw stateError("list", folder(credentialId), error);
    }
    const flat: string[] = [];
    for (const name of names) {
      if (name.endsWith(".tmp")) continue; // a creator's temp file, linked into place or about to go
      const openedAt = await readText(join(folder(credentialId), name));
      if (openedAt !== undefined) flat.push(name, openedAt.trim());
    }
    return episodesOf(flat);
  };

  return {
    async open(credentialId, kind, at) {
      await ensureDir(folder(credentialId));
      return createExclusive(join(folder(credentialId), kind), at.toISOString());
    },
    list,
    async resolve(credentialId, kind, openedAt) {
      const file = join(folder(credentialId), kind);
      const current = (await readText(file))?.trim();
      if (current === undefined || (openedAt !== undefined && current !== openedAt)) return false;
      await removeFile(file);
      return true;
    },
  };
}
