/**
 * GET /credentials/:id/rollback is the confirm step (with a reason field); POST runs rollbackCredential,
 * the function `certrotor rollback` calls, with the operator's console name (operator role, the session's
 * CSRF token). Its refusals (NO_PREVIOUS, PREVIOUS_NOT_BOUND) come back on the same page, nothing changed.
 */
import type { FastifyInstance } from "fastify";
import { isCertrotorError } from "../../errors.js";
import { checkRollbackText, rollbackCredential } from "../../onboarding/rollback.js";
import type { ConsoleContext } from "../context.js";
import { rollbackPage } from "../views/forms.js";
import { sendPage } from "./send.js";

/** Refusals that leave the credential as it was and are the operator's to read, not a server fault. */
const REFUSALS: ReadonlySet<string> = new Set(["NO_PREVIOUS", "PREVIOUS_NOT_BOUND", "BAD_ARGUMENT"]);

export function rollbackRoutes(app: FastifyInstance, ctx: ConsoleContext): void {
  app.get<{ Params: { id: string } }>("/credentials/:id/rollback", async (request, reply) => {
    ctx.auth.require(request, "operator");
    const credential = await ctx.runtime.credential(request.params.id);
    return sendPage(reply, request, "Roll back", rollbackPage(reply.generateCsrf(), credential.id));
  });
  app.post<{ Params: { id: string } }>(
    "/credentials/:id/rollback",
    {
      onRequest: async (request) => {
        ctx.auth.require(request, "operator");
      },
      preHandler: app.csrfChecked,
    },
    async (request, reply) => {
      const session = ctx.auth.require(request, "operator");
      const credential = await ctx.runtime.credential(request.params.id);
      const reason = (request.body as Record<string, unknown> | undefined)?.reason;
      try {
        checkRollbackText([["reason", typeof reason === "string" ? reason : ""]]);
        const result = await rollbackCredential(ctx.runtime, credential, {
          reason: String(reason).trim(),
          operator: session.user,
        });
        ctx.fleet.invalidate();
        ctx.logger.info(
          { user: session.user, credentialId: credential.id, rollbackId: result.rollbackId },
          "console: rollback",
        );
        return reply.code(303).redirect(`/credentials/${encodeURIComponent(credential.id)}?rolledBack=1`);
      } catch (error) {
        const html = String(request.headers.accept ?? "").includes("text/html");
        if (!html || !isCertrotorError(error) || !REFUSALS.has(error.code)) throw error;
        const { code, message, hint } = error;
        reply.code(code === "BAD_ARGUMENT" ? 400 : 409);
        return sendPage(
          reply,
          request,
          "Roll back",
          rollbackPage(reply.generateCsrf(), credential.id, { code, message, ...(hint ? { hint } : {}) }),
        );
      }
    },
  );
}
