/**
 * `list` for the file store: pages over the sorted credential paths decoded from the directory's file
 * names. A prefix filter needs no decryption; a tag filter opens the candidate documents (tags are kept
 * inside the encrypted document), a few at a time, and examines a bounded number per page so one call
 * stays short: a page may then hold fewer paths than asked and still carry a cursor.
 */
import { readdir } from "node:fs/promises";
import { CertrotorError } from "../errors.js";
import type { CredentialDoc } from "./file-doc.js";
import { fsError } from "./file-io.js";
import { decodeFileName } from "./file-names.js";
import type { ListOptions, ListPage } from "./types.js";

const DEFAULT_PAGE = 100;
const MAX_PAGE = 1_000;
const MAX_EXAMINED_PER_PAGE = 2_000;
const READ_CONCURRENCY = 16;
const DECODED_CACHE_MAX = 200_000;

// decodeFileName is pure; remembering it turns paging through N credentials from N decodes per page into
// one per file name (readdir stays fresh on every call, so nothing here can go stale).
const decoded = new Map<string, string | undefined>();

function pathOf(name: string): string | undefined {
  if (decoded.has(name)) return decoded.get(name);
  if (decoded.size >= DECODED_CACHE_MAX) decoded.clear();
  const path = decodeFileName(name);
  decoded.set(name, path);
  return path;
}

function encodeCursor(after: string): string {
  return Buffer.from(JSON.stringify({ after }), "utf8").toString("base64url");
}

function decodeCursor(cursor: string): string {
  try {
    const { after } = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as { after?: unknown };
    if (typeof after === "string") return after;
  } catch {
    // falls through to the coded error below: the cursor did not come from this store
  }
  throw new CertrotorError("BAD_ARGUMENT", "file-store list cursor is not one this store returned");
}

async function sortedPaths(
  storeName: string,
  dir: string,
  prefix: string,
  after?: string,
): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    throw fsError(storeName, "to list", dir, error);
  }
  const paths: string[] = [];
  for (const name of names) {
    const path = pathOf(name);
    if (path?.startsWith(prefix) && (after === undefined || path > after)) paths.push(path);
  }
  return paths.sort();
}

function tagMatches(doc: CredentialDoc | undefined, tag: NonNullable<ListOptions["tag"]>): boolean {
  const value = doc?.tags[tag.key];
  return value !== undefined && (tag.value === undefined || value === tag.value);
}

/** One page of paths whose document carries `tag`, examining candidates READ_CONCURRENCY at a time. */
async function tagPage(
  candidates: string[],
  pageSize: number,
  tag: NonNullable<ListOptions["tag"]>,
  load: (path: string) => Promise<CredentialDoc | undefined>,
): Promise<ListPage> {
  const paths: string[] = [];
  let examined = 0;
  while (examined < candidates.length && paths.length < pageSize && examined < MAX_EXAMINED_PER_PAGE) {
    const room = Math.min(READ_CONCURRENCY, pageSize - paths.length, candidates.length - examined);
    const batch = candidates.slice(examined, examined + room);
    const docs = await Promise.all(batch.map(load));
    batch.forEach((path, i) => {
      if (tagMatches(docs[i], tag)) paths.push(path);
    });
    examined += batch.length;
  }
  const last = candidates[examined - 1];
  return examined < candidates.length && last !== undefined ? { paths, next: encodeCursor(last) } : { paths };
}

export async function listPaths(
  storeName: string,
  dir: string,
  options: ListOptions,
  load: (path: string) => Promise<CredentialDoc | undefined>,
): Promise<ListPage> {
  const pageSize = Math.max(1, Math.min(MAX_PAGE, Math.trunc(options.pageSize ?? DEFAULT_PAGE)));
  const after = options.cursor === undefined ? undefined : decodeCursor(options.cursor);
  const candidates = await sortedPaths(storeName, dir, options.prefix ?? "", after);
  if (options.tag) return tagPage(candidates, pageSize, options.tag, load);
  const paths = candidates.slice(0, pageSize);
  const last = paths.at(-1);
  return candidates.length > pageSize && last !== undefined ? { paths, next: encodeCursor(last) } : { paths };
}
