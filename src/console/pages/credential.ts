/**
 * GET /credentials/:id (and /api/credentials/:id as JSON): what `status --history` shows, with open alerts
 * and tasks. GET /credentials/:id/actions/:action is the confirm step; POST runs the action (operator
 * role and the session's CSRF token), then goes back to the credential page.
 */
import type { FastifyInstance } from "fastify";
import { CertrotorError } from "../../errors.js";
import { credentialStatus } from "../../rotation/status.js";
import { ACTIONS, type ActionName, isActionName, runAction } from "../actions.js";
import type { ConsoleContext } from "../context.js";
import { credentialPage } from "../views/credential.js";
import { confirmPage } from "../views/forms.js";
import { sendPage } from "./send.js";

function actionOf(name: string): ActionName {
  if (!isActionName(name)) {
    throw new CertrotorError("BAD_ARGUMENT", `no console action "${name}"`, {
      hint: `one of: ${Object.keys(ACTIONS).join(", ")}`,
    });
  }
  return name;
}

export function credentialRoutes(app: FastifyInstance, ctx: ConsoleContext): void {
  const load = async (id: string) => {
    const credential = await ctx.runtime.credential(id);
    const [status, alerts, tasks, snapshot] = await Promise.all([
      credentialStatus(ctx.runtime, credential, { history: true, limit: 10 }),
      ctx.runtime.episodes.list(id),
      ctx.tasks.open(id),
      ctx.fleet.get(),
    ]);
    const row = snapshot.rows.find((r) => r.id === id);
    return { credential, status, alerts, tasks, ...(row ? { row } : {}) };
  };
  app.get<{ Params: { id: string } }>("/credentials/:id", async (request, reply) => {
    const session = ctx.auth.require(request);
    const { credential, ...view } = await load(request.params.id);
    return sendPage(
      reply,
      request,
      credential.id,
      credentialPage({
        id: credential.id,
        bank: credential.bank,
        store: credential.store,
        role: session.role,
        ...view,
      }),
    );
  });
  app.get<{ Params: { id: string } }>("/api/credentials/:id", async (request, reply) => {
    ctx.auth.require(request);
    const { credential, ...view } = await load(request.params.id);
    return reply
      .header("cache-control", "no-store")
      .send({ id: credential.id, bank: credential.bank, store: credential.store, ...view });
  });
  app.get<{ Params: { id: string; action: string } }>(
    "/credentials/:id/actions/:action",
    async (request, reply) => {
      ctx.auth.require(request, "operator");
      const action = actionOf(request.params.action);
      const credential = await ctx.runtime.credential(request.params.id);
      const { label, confirm } = ACTIONS[action];
      return sendPage(
        reply,
        request,
        label,
        confirmPage(reply.generateCsrf(), credential.id, action, label, confirm),
      );
    },
  );
  app.post<{ Params: { id: string; action: string } }>(
    "/credentials/:id/actions/:action",
    {
      // refused in this order: no login (401), no operator role (403), a bad CSRF token (403)
      onRequest: async (request) => {
        ctx.auth.require(request, "operator");
      },
      preHandler: app.csrfChecked,
    },
    async (request, reply) => {
      const session = ctx.auth.require(request, "operator");
      const action = actionOf(request.params.action);
      const credential = await ctx.runtime.credential(request.params.id);
      const result = await runAction(
        {
          journal: ctx.runtime.journal,
          ...(ctx.producer ? { producer: ctx.producer } : {}),
          now: ctx.runtime.now,
        },
        action,
        credential,
        session.user,
      );
      ctx.fleet.invalidate();
      ctx.logger.info(
        {
          user: session.user,
          action,
          credentialId: credential.id,
          rotationId: result.rotationId,
          added: result.added,
        },
        "console: action",
      );
      return reply
        .code(303)
        .redirect(
          `/credentials/${encodeURIComponent(credential.id)}?queued=${encodeURIComponent(result.rotationId)}&added=${result.added ? 1 : 0}`,
        );
    },
  );
}
