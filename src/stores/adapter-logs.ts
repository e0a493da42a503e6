/**
 * The Vault and AWS adapters report what they do as one plain object per event (a Vault retry, login or
 * renewal; every AWS call with its outcome). Here those reports reach the logger createRuntime hands every
 * adapter, at a level fit for a worker's log: what an operator must see (retries, calls the service
 * failed, failed logins and renewals) as warnings, the routine (logins, renewals, each call) as debug.
 */
import type { AdapterLogger } from "../observability/logger.js";

/** A Vault report: `msg` says what happened ("vault request retried", "vault token renewed", ...). */
export function vaultReports(logger: AdapterLogger): (line: object) => void {
  return (line) => {
    const { msg, ...fields } = line as { msg?: unknown };
    const message = typeof msg === "string" ? msg : "vault";
    if (/retr|fail|refus|denied/i.test(message)) logger.warn(fields, message);
    else logger.debug(fields, message);
  };
}

/** Retry-worthy failures: the network (no status), throttling, the service's own errors. */
function serviceTrouble(outcome: string, status: number | undefined): boolean {
  return status === undefined || status >= 500 || /throttl|toomanyrequests|limitexceeded/i.test(outcome);
}

/**
 * An AWS call report: `outcome` "ok" (with the SDK's `attempts`) or the AWS error code. A call the SDK
 * had to retry, or one the service or the network failed, is a warning; a refusal the adapter maps to an
 * error (NotFound for an absent pending version, AccessDenied) surfaces through that error instead.
 */
export function awsReports(logger: AdapterLogger): (line: object) => void {
  return (line) => {
    const call = line as { outcome?: unknown; status?: unknown; attempts?: unknown };
    const outcome = String(call.outcome ?? "");
    const status = typeof call.status === "number" ? call.status : undefined;
    const attempts = typeof call.attempts === "number" ? call.attempts : 1;
    if (outcome === "ok") {
      if (attempts > 1) logger.warn(line, "aws call retried");
      else logger.debug(line, "aws call");
    } else if (serviceTrouble(outcome, status)) logger.warn(line, "aws call failed");
    else logger.debug(line, "aws call refused");
  };
}
