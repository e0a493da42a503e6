/**
 * Turns a bank answer that is not a success into a coded error, per seed 001's table. The bank's own
 * error text (`error_description` or `message`) is the only thing that tells "Invalid Credentials" from
 * "Invalid Client Certificate" on a 401, so that is what is read: the bank's wire contract, not ours.
 * Nothing else of the body is kept, and the text is never quoted raw: every value the request carried
 * (client_secret, the bearer token or API key, a CSR) is replaced by [redacted] wherever the bank echoes
 * it, as are bearer tokens and JWTs, and it is trimmed to one short line.
 */
import { CertrotorError, type ErrorCode } from "../errors.js";
import { BANK_HINTS, type BankErrorCode } from "./hints.js";
import type { HttpAnswer } from "./transport.js";

const REDACTED = "[redacted]";
const JWT = /\beyJ[\w-]*\.[\w-]+\.[\w-]*/g;
const BEARER = /\b(Bearer|Basic)\s+[\w.~+/=-]+/gi;

/**
 * The bank's error text from `{ error_description }`, `{ message }` or `{ error }` (seed 001's fields),
 * with anything the request carried (`answer.echoes`), bearer credentials and JWTs redacted, one line,
 * at most 160 characters.
 */
export function bankText(answer: Pick<HttpAnswer, "json" | "echoes">): string {
  const json = answer.json;
  if (json === null || typeof json !== "object") return "";
  const body = json as Record<string, unknown>;
  const found = [body["error_description"], body["message"], body["error"]].find(
    (v) => typeof v === "string",
  );
  if (typeof found !== "string") return "";
  let text = found;
  // longest first, so a value that contains another is replaced whole
  for (const secret of [...(answer.echoes ?? [])].sort((a, b) => b.length - a.length)) {
    text = text.split(secret).join(REDACTED);
  }
  text = text.replace(JWT, REDACTED).replace(BEARER, `$1 ${REDACTED}`);
  return text.replace(/\s+/g, " ").trim().slice(0, 160);
}

export function bankError(
  code: BankErrorCode,
  message: string,
  answer: HttpAnswer | undefined,
  extra: Record<string, string | number | boolean> = {},
): CertrotorError {
  return new CertrotorError(code, message, {
    hint: BANK_HINTS[code],
    details: { ...(answer ? { status: answer.status } : {}), ...extra },
  });
}

/** Codes shared by every route: 5xx/429 (retryable), and anything outside the contract. */
export function genericAnswerError(answer: HttpAnswer, what: string): CertrotorError {
  const text = bankText(answer);
  const said = text ? `: "${text}"` : "";
  if (answer.status >= 500 || answer.status === 429) {
    return bankError("BANK_UNAVAILABLE", `${what}: the bank answered ${answer.status}${said}`, answer);
  }
  if (answer.status === 400 || answer.status === 422) {
    return bankError(
      "BANK_BAD_REQUEST",
      `${what}: the bank refused the request (${answer.status})${said}`,
      answer,
    );
  }
  return bankError(
    "BANK_PROTOCOL",
    `${what}: unexpected answer ${answer.status} from the bank${said}`,
    answer,
  );
}

/**
 * RFC 6749 § 5.2: a client that authenticated in the body may be refused with 400 `invalid_client` (or
 * `unauthorized_client`) instead of 401; that is seed 001's 401 row all the same.
 */
function clientRefused(answer: HttpAnswer): boolean {
  if (answer.status === 401) return true;
  const error = (answer.json as { error?: unknown } | undefined)?.error;
  return answer.status === 400 && (error === "invalid_client" || error === "unauthorized_client");
}

/** Token endpoint refusals (seed 001; RFC 6749 § 5.2): 400, 401 Invalid Credentials / Invalid Client Certificate, 403. */
export function tokenAnswerError(answer: HttpAnswer, what: string): CertrotorError {
  const text = bankText(answer);
  if (clientRefused(answer)) {
    const certificate = /certificate|certificado/i.test(text);
    const code: ErrorCode & BankErrorCode = certificate ? "INVALID_CLIENT_CERT" : "INVALID_CREDENTIALS";
    const label = certificate ? "Invalid Client Certificate" : "Invalid Credentials";
    return bankError(code, `${what}: the bank answered ${answer.status} ${label}`, answer);
  }
  if (answer.status === 403) {
    return bankError(
      "IP_NOT_ALLOWED",
      `${what}: the bank answered 403 Forbidden (source IP not allowed)`,
      answer,
    );
  }
  return genericAnswerError(answer, what);
}
