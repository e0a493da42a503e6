/**
 * The SDK-free parts of the AWS store: how a rotation id becomes a ClientRequestToken, how a SecretString
 * becomes a document, and how list options become ListSecrets filters.
 */
import { createHash } from "node:crypto";
import { CertrotorError } from "../errors.js";
import { decodeMaterial } from "./material.js";
import type { CredentialRef, ListOptions, ListPage } from "./types.js";

const sha256Hex = (text: string): string => createHash("sha256").update(text, "utf8").digest("hex");

/** AWS accepts ClientRequestToken (and so VersionId) of 32–64 characters. */
const USABLE_AS_TOKEN = /^[\x21-\x7e]{32,64}$/;

/**
 * The ClientRequestToken (and so the VersionId) of a rotation's pending version. A rotation id that is already
 * 32–64 printable characters (a UUID is 36) is used as is, so the VersionId shows which rotation staged it;
 * any other id becomes `certrotor-` + the first 54 hex digits of SHA-256(rotation id): 64 characters,
 * deterministic, so a retried stage sends the same token.
 */
export function clientRequestToken(rotationId: string): string {
  return USABLE_AS_TOKEN.test(rotationId) ? rotationId : `certrotor-${sha256Hex(rotationId).slice(0, 54)}`;
}

/**
 * The token when one rotation stages a second, different document before promote: AWS refuses a token reused
 * with other data, so this one is derived from the rotation id and the document (a retry of the same document
 * sends the same token again).
 */
export function overwriteToken(rotationId: string, doc: string): string {
  return `certrotor-${sha256Hex(`${rotationId}\n${sha256Hex(doc)}`).slice(0, 54)}`;
}

function invalid(ref: CredentialRef, problem: string): CertrotorError {
  return new CertrotorError(
    "MATERIAL_INVALID",
    `stored material of credential "${ref.credentialId}" at "${ref.path}" ${problem}`,
    { details: { credentialId: ref.credentialId, path: ref.path } },
  );
}

/** The JSON document in a SecretString; MATERIAL_INVALID (never echoing the value) otherwise. */
export function parseDocument(ref: CredentialRef, secretString: string | undefined): Record<string, unknown> {
  if (secretString === undefined) {
    throw invalid(ref, "is a binary secret (SecretBinary), expected a JSON SecretString");
  }
  let doc: unknown;
  try {
    doc = JSON.parse(secretString);
  } catch {
    throw invalid(ref, "is not valid JSON");
  }
  if (doc === null || typeof doc !== "object" || Array.isArray(doc))
    throw invalid(ref, "is not a JSON object");
  return doc as Record<string, unknown>;
}

/** The rotation id a stored document names, or undefined (not JSON, or not staged by certrotor). */
export function rotationIdOf(secretString: string | undefined, ref: CredentialRef): string | undefined {
  if (secretString === undefined) return undefined;
  try {
    const doc: unknown = JSON.parse(secretString);
    const value =
      doc !== null && typeof doc === "object"
        ? (doc as Record<string, unknown>)[ref.fieldMap?.rotationId ?? "rotationId"]
        : undefined;
    return typeof value === "string" && value !== "" ? value : undefined;
  } catch {
    return undefined;
  }
}

/** What ListSecrets accepts as a filter value (API_Filter); others are filtered on our side only. */
const FILTER_VALUE = /^[a-zA-Z0-9 :_@/+=.\-!]{1,512}$/;
const usable = (value: string): boolean => FILTER_VALUE.test(value) && !value.startsWith("!"); // "!" negates

/**
 * Server-side narrowing for ListSecrets. The service matches prefixes of the name and of any tag key / any tag
 * value independently, so the caller still checks the exact name prefix and the exact key=value pair.
 */
export function listFilters(
  options: ListOptions,
): Array<{ Key: "name" | "tag-key" | "tag-value"; Values: string[] }> | undefined {
  const filters: Array<{ Key: "name" | "tag-key" | "tag-value"; Values: string[] }> = [];
  if (options.prefix !== undefined && usable(options.prefix))
    filters.push({ Key: "name", Values: [options.prefix] });
  if (options.tag !== undefined && usable(options.tag.key))
    filters.push({ Key: "tag-key", Values: [options.tag.key] });
  if (options.tag?.value !== undefined && usable(options.tag.value)) {
    filters.push({ Key: "tag-value", Values: [options.tag.value] });
  }
  return filters.length > 0 ? filters : undefined;
}

/**
 * The store's list cursor: the ListSecrets NextToken of the window being read plus how many of its matches
 * were already returned. Windows are always fetched at the maximum (100) and cut to the caller's page size;
 * the rest of a window is served by asking for the same NextToken again, as the AWS CLI's paginator does
 * (`--starting-token` = NextToken + truncate amount). This keeps a small page size from turning a sparse
 * filtered listing into one call per handful of secrets.
 */
export interface ListCursor {
  token?: string;
  skip: number;
}

export function encodeCursor(cursor: ListCursor): string {
  return Buffer.from(JSON.stringify(cursor), "utf8").toString("base64url");
}

export function decodeCursor(cursor: string | undefined): ListCursor | undefined {
  if (cursor === undefined) return { skip: 0 };
  try {
    const parsed = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as Partial<ListCursor>;
    const tokenOk = parsed.token === undefined || typeof parsed.token === "string";
    if (tokenOk && typeof parsed.skip === "number" && Number.isInteger(parsed.skip) && parsed.skip >= 0) {
      return { ...(parsed.token !== undefined ? { token: parsed.token } : {}), skip: parsed.skip };
    }
  } catch {
    // reported by the caller
  }
  return undefined;
}

/**
 * One page of paths from one ListSecrets window (fetched at 100): the exact name prefix and tag pair are
 * checked here (the service matches prefixes of any tag key and any tag value independently), then the
 * matches are cut to the page size, the rest left for a cursor on the same window.
 */
export function pageOf(
  window: {
    entries: Array<{ name: string; tags: Array<{ key: string; value: string }>; pending?: boolean }>;
    nextToken?: string;
  },
  options: ListOptions,
  cursor: ListCursor,
): ListPage {
  const pageSize = Math.min(100, Math.max(1, options.pageSize ?? 100));
  const { prefix = "", tag } = options;
  const matching = window.entries
    .filter((entry) => entry.name.startsWith(prefix))
    .filter(
      (entry) =>
        tag === undefined || entry.tags.some((t) => t.key === tag.key && (tag.value ?? t.value) === t.value),
    )
    .slice(cursor.skip);
  const pageOfEntries = (entries: typeof matching): Pick<ListPage, "paths" | "pending"> => {
    const paths = entries.map((entry) => entry.name);
    // one entry without its stage map makes the whole page "unknown": the caller then reads every pending
    if (entries.some((entry) => entry.pending === undefined)) return { paths };
    return { paths, pending: entries.filter((entry) => entry.pending).map((entry) => entry.name) };
  };
  if (matching.length > pageSize) {
    const rest = {
      ...(cursor.token !== undefined ? { token: cursor.token } : {}),
      skip: cursor.skip + pageSize,
    };
    return { ...pageOfEntries(matching.slice(0, pageSize)), next: encodeCursor(rest) };
  }
  const next =
    window.nextToken !== undefined ? { next: encodeCursor({ token: window.nextToken, skip: 0 }) } : {};
  return { ...pageOfEntries(matching), ...next };
}

/** Keys of a stored document certrotor does not manage; a malformed document has none to carry over. */
export function unmanagedKeys(ref: CredentialRef, secretString: string | undefined): Record<string, unknown> {
  try {
    return decodeMaterial(parseDocument(ref, secretString), ref).extra;
  } catch {
    return {};
  }
}
