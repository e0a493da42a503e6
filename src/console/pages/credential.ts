/**
 * GET /credentials/:id (and /api/credentials/:id as JSON): what `status --history` shows, with open alerts
 * and tasks. GET /credentials/:id/actions/:action is the confirm step; POST runs the action (operator
 * role and the session's CSRF token), then goes back to the credential page.
 */
import type { FastifyInstance } from "fastify";
import { CertrotorError } from "../../errors.js";
import { credentialStatus } from "../../rotation/status.js";
import { buildFleet } from "../fleet.js";
import { ACTIONS, type ActionName, isActionName, runAction } from "../actions.js";
import type { ConsoleContext } from "../context.js";
import { credentialPage, rotationsSection } from "../views/credential.js";
import { confirmPage } from "../views/forms.js";
import { sendFragment, sendPage } from "./send.js";

const queuedOf = (query: unknown): string | undefined => {
  const value = (query as Record<string, unknown>).queued;
  return typeof value === "string" && /^[A-Za-z0-9_-]{1,100}$/.test(value) ? value : undefined;
};

function actionOf(name: string): ActionName {
  if (!isActionName(name)) {
    throw new CertrotorError("BAD_ARGUMENT", `no console action "${name}"`, {
      hint: `one of: ${Object.keys(ACTIONS).join(", ")}`,
    });
  }
  return name;
}

export function credentialRoutes(app: FastifyInstance, ctx: ConsoleContext): void {
  const find = async (id: string) =>
    (await ctx.fleet.get()).credentials?.get(id) ?? ctx.runtime.credential(id);
  const load = async (id: string) => {
    const credential = await find(id);
    // the row is read live (not from the fleet snapshot): this page is where a rotation is watched
    const [status, alerts, tasks, live] = await Promise.all([
      credentialStatus(ctx.runtime, credential, { history: true, limit: 10 }),
      ctx.runtime.episodes.list(id),
      ctx.tasks.open(id),
      buildFleet(ctx.runtime, ctx.tasks, [credential]),
    ]);
    const row = live.rows[0];
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
        csrf: reply.generateCsrf(),
        ...view,
        ...((request.query as Record<string, unknown>).rolledBack === "1" ? { rolledBack: true } : {}),
        ...(queuedOf(request.query) ? { queued: queuedOf(request.query)! } : {}),
      }),
    );
  });
  app.get<{ Params: { id: string } }>("/credentials/:id/rotations", async (request, reply) => {
    ctx.auth.require(request);
    const credential = await find(request.params.id);
    const rotations = await ctx.runtime.journal.history(credential.id, 10);
    return sendFragment(reply, rotationsSection(credential.id, rotations, queuedOf(request.query)));
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
      const credential = await find(request.params.id);
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
      const credential = await find(request.params.id);
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
