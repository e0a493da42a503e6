/**
 * Paged discovery on Vault KV v2. Vault's LIST returns one folder's keys at once, with no paging, so the
 * store walks the folders under the prefix (recursing into `sub/` entries), sorts the full paths and
 * pages over them with a cursor that is the last path handed out. Pending keys are skipped; a tag
 * filter reads each candidate's custom_metadata. With sibling pendings (`<path><pendingSuffix>`), the
 * folder's LIST already names each credential's pending key beside it, so the page says which paths have
 * one (ListPage.pending) and a scan reads pending only for those.
 */
import { CertrotorError } from "../errors.js";
import type { ListOptions, ListPage } from "./types.js";
import type { KvV2 } from "./vault-kv.js";

const DEFAULT_PAGE = 100;
const MAX_PAGE = 1000;

function encodeCursor(path: string): string {
  return Buffer.from(path, "utf8").toString("base64url");
}

function decodeCursor(cursor: string): string {
  const path = Buffer.from(cursor, "base64url").toString("utf8");
  if (encodeCursor(path) !== cursor)
    throw new CertrotorError("BAD_ARGUMENT", "vault store list: the cursor is not one this store handed out");
  return path;
}

/** How the store lays out pendings: what the listing needs to skip them and, for siblings, to see them. */
export interface PendingLayout {
  /** True for a key that holds pending material (either layout), never a credential. */
  isPending: (path: string) => boolean;
  /** The sibling suffix when pendings sit beside their credential (no pendingPrefix); else undefined. */
  siblingSuffix: string | undefined;
}

interface Walked {
  /** Every credential path under the prefix, sorted. */
  paths: string[];
  /** Keys seen by the walk (pendings included), to look sibling pendings up in. */
  keys: Set<string>;
}

/** Every key path under `prefix` (a folder, a partial name, or ""), sorted, pendings excluded. */
async function walk(kv: KvV2, prefix: string, isPending: (path: string) => boolean): Promise<Walked> {
  const found: string[] = [];
  const keys = new Set<string>();
  const folders = [prefix.slice(0, prefix.lastIndexOf("/") + 1)];
  while (folders.length > 0) {
    const folder = folders.pop()!;
    for (const key of await kv.list(folder)) {
      const path = folder + key;
      keys.add(path);
      if (key.endsWith("/")) {
        // The pending prefix is not walked: nothing there is a credential (nor need the policy grant LIST on it).
        if ((path.startsWith(prefix) || prefix.startsWith(path)) && !isPending(path)) folders.push(path);
      } else if (path.startsWith(prefix) && !isPending(path)) {
        found.push(path);
      }
    }
  }
  return { paths: found.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)), keys };
}

function tagMatches(
  custom: Record<string, unknown> | undefined,
  tag: NonNullable<ListOptions["tag"]>,
): boolean {
  if (!custom || !(tag.key in custom)) return false;
  return tag.value === undefined || custom[tag.key] === tag.value;
}

export async function listPage(kv: KvV2, layout: PendingLayout, options: ListOptions): Promise<ListPage> {
  const prefix = (options.prefix ?? "").replace(/^\/+/, "");
  const size = Math.min(MAX_PAGE, Math.max(1, options.pageSize ?? DEFAULT_PAGE));
  const after = options.cursor ? decodeCursor(options.cursor) : undefined;
  const { paths: all, keys } = await walk(kv, prefix, layout.isPending);
  const start = after === undefined ? 0 : all.findIndex((path) => path > after);
  const suffix = layout.siblingSuffix;
  const pendingOf = (paths: string[]): Pick<ListPage, "pending"> =>
    suffix === undefined ? {} : { pending: paths.filter((path) => keys.has(path + suffix)) };
  if (start === -1) return { paths: [], ...pendingOf([]) };
  const paths: string[] = [];
  let index = start;
  for (; index < all.length && paths.length < size; index++) {
    const path = all[index]!;
    if (!options.tag || tagMatches(await kv.customMetadata(path), options.tag)) paths.push(path);
  }
  return index < all.length
    ? { paths, ...pendingOf(paths), next: encodeCursor(all[index - 1]!) }
    : { paths, ...pendingOf(paths) };
}
