/**
 * The CORE admin API, as the adapter uses it: list, bind (register then bind), unbind, and bank-signed
 * CSRs. The only module that knows the admin routes. Authenticated with the Bearer API key over
 * server-authenticated TLS (pinned CA); the key never appears in errors or logs.
 */
import { z } from "zod";
import { bankError, genericAnswerError } from "./answers.js";
import type { MtlsSession } from "./mtls.js";
import { type HttpAnswer, type HttpCall, type RetryPolicy, send, withRetries } from "./transport.js";
import type { BoundCertificate } from "./types.js";

export const ADMIN_BASE = "/admin/v1";

export interface AdminClientOptions {
  bankName: string;
  baseUrl: string;
  apiKey: string;
  session: MtlsSession;
  /** Active certificates the bank allows per credential (config `maxSlots`), for the SLOTS_FULL message. */
  maxSlots: 1 | 2;
  timeoutMs: number;
  retry: RetryPolicy;
  onRetry: (what: string, code: string, attempt: number, delayMs: number) => void;
}

const isoDate = z.string().transform((text, ctx) => {
  const date = new Date(text);
  if (Number.isNaN(date.getTime())) {
    ctx.addIssue({ code: "custom", message: "not an ISO date" });
    return z.NEVER;
  }
  return date;
});

const bindingSchema = z.object({
  id: z.string(),
  fingerprint: z.string(),
  subject: z.string(),
  not_after: isoDate,
  bound_at: isoDate,
  last_used_at: isoDate.nullable().optional(),
});
const listSchema = z.object({ certificates: z.array(bindingSchema) });
const registeredSchema = z.object({ id: z.string(), fingerprint: z.string() });
const signedSchema = z.object({ certificate_pem: z.string(), chain_pem: z.string() });

function toBound(binding: z.infer<typeof bindingSchema>): BoundCertificate {
  return {
    id: binding.id,
    fingerprint: binding.fingerprint.toLowerCase(),
    subject: binding.subject,
    notAfter: binding.not_after,
    boundAt: binding.bound_at,
    ...(binding.last_used_at ? { lastUsedAt: binding.last_used_at } : {}),
  };
}

export function createAdminClient(options: AdminClientOptions) {
  const base = options.baseUrl.replace(/\/+$/, "");

  async function call(
    method: HttpCall["method"],
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ) {
    const what = `${method} ${ADMIN_BASE}${path.replace(/\/[0-9a-f]{64}$/, "/<fingerprint>")}`;
    const exchange = async (): Promise<HttpAnswer> => {
      const answer = await send({
        method,
        url: new URL(`${base}${ADMIN_BASE}${path}`),
        headers: { authorization: `Bearer ${options.apiKey}`, ...headers },
        body,
        session: options.session,
        timeoutMs: options.timeoutMs,
      });
      if (answer.status >= 500 || answer.status === 429) throw genericAnswerError(answer, what);
      if (answer.status === 401 || answer.status === 403) {
        throw bankError(
          "BANK_ADMIN_UNAUTHORIZED",
          `${what}: the bank's admin API refused the API key (${answer.status})`,
          answer,
        );
      }
      return answer;
    };
    const answer = await withRetries(options.retry, exchange, (error, attempt, delay) =>
      options.onRetry(what, error.code, attempt, delay),
    );
    return { answer, what };
  }

  function parse<T>(schema: z.ZodType<T>, answer: HttpAnswer, what: string): T {
    const parsed = schema.safeParse(answer.json);
    if (!parsed.success)
      throw bankError(
        "BANK_PROTOCOL",
        `${what}: the bank's answer does not have the expected fields`,
        answer,
      );
    return parsed.data;
  }

  const clientPath = (clientId: string): string =>
    `/credentials/${encodeURIComponent(clientId)}/certificates`;

  const missingCredential = (clientId: string, answer: HttpAnswer, what: string) =>
    bankError("BANK_BAD_REQUEST", `${what}: the bank has no credential "${clientId}"`, answer);

  return {
    async listSlots(clientId: string): Promise<BoundCertificate[]> {
      const { answer, what } = await call("GET", clientPath(clientId));
      if (answer.status === 404) throw missingCredential(clientId, answer, what);
      if (answer.status !== 200) throw genericAnswerError(answer, what);
      return parse(listSchema, answer, what).certificates.map(toBound);
    },

    async bind(clientId: string, certPem: string): Promise<BoundCertificate> {
      const registered = await call("POST", "/certificates", { pem: certPem });
      if (registered.answer.status !== 200 && registered.answer.status !== 201) {
        throw genericAnswerError(registered.answer, registered.what);
      }
      const { id } = parse(registeredSchema, registered.answer, registered.what);
      const { answer, what } = await call("POST", clientPath(clientId), { certificate_id: id });
      if (answer.status === 409) {
        throw bankError(
          "SLOTS_FULL",
          `${what}: credential "${clientId}" already has ${options.maxSlots} active certificate${options.maxSlots === 1 ? "" : "s"} at bank "${options.bankName}"`,
          answer,
        );
      }
      if (answer.status === 404) throw missingCredential(clientId, answer, what);
      if (answer.status !== 200 && answer.status !== 201) throw genericAnswerError(answer, what);
      return toBound(parse(bindingSchema, answer, what));
    },

    async unbind(clientId: string, fingerprint: string): Promise<void> {
      const path = `${clientPath(clientId)}/${fingerprint.replace(/:/g, "").toLowerCase()}`;
      const { answer, what } = await call("DELETE", path);
      if (answer.status === 204 || answer.status === 200) return;
      if (answer.status === 404) {
        // "not bound" is the goal state; a missing credential is not.
        const error = (answer.json as { error?: unknown } | undefined)?.error;
        if (error === "credential_not_found") throw missingCredential(clientId, answer, what);
        return;
      }
      throw genericAnswerError(answer, what);
    },

    async signCsr(csrPem: string, idempotencyKey: string): Promise<{ certPem: string; chainPem: string }> {
      const { answer, what } = await call(
        "POST",
        "/certificate-requests",
        { csr: csrPem },
        { "idempotency-key": idempotencyKey },
      );
      if (answer.status !== 200 && answer.status !== 201) throw genericAnswerError(answer, what);
      const signed = parse(signedSchema, answer, what);
      return { certPem: signed.certificate_pem, chainPem: signed.chain_pem };
    },
  };
}

export type AdminClient = ReturnType<typeof createAdminClient>;
