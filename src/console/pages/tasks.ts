/**
 * GET /tasks: open human tasks; GET /tasks/:id/csr|cert: their public PEM as a download; POST
 * /tasks/:id/complete: a signed certificate uploaded by an operator (multipart, CSRF token in the form),
 * handed to the TaskView's `complete`, which validates it as `task complete` does (the same function).
 * Viewers see and download; only operators upload.
 */
import type { FastifyInstance } from "fastify";
import { CertrotorError } from "../../errors.js";
import type { ConsoleContext } from "../context.js";
import { tasksPage } from "../views/forms.js";
import { sendPage } from "./send.js";

/** A signed certificate (PEM, perhaps with its chain) is a few KiB. */
export const UPLOAD_LIMIT_BYTES = 64 * 1024;

const completedOf = (query: unknown): string | undefined => {
  const value = (query as Record<string, unknown>).completed;
  return typeof value === "string" && /^[A-Za-z0-9_-]{1,100}$/.test(value) ? value : undefined;
};

export function tasksRoutes(app: FastifyInstance, ctx: ConsoleContext): void {
  app.get("/tasks", async (request, reply) => {
    const session = ctx.auth.require(request);
    const tasks = await ctx.tasks.open();
    const csrf = reply.generateCsrf();
    return sendPage(
      reply,
      request,
      "Tasks",
      tasksPage(tasks, {
        csrf,
        upload: session.role === "operator",
        ...(completedOf(request.query) ? { completed: completedOf(request.query)! } : {}),
      }),
      "tasks",
    );
  });
  app.get<{ Params: { id: string; what: string } }>("/tasks/:id/:what", async (request, reply) => {
    ctx.auth.require(request);
    const what = request.params.what === "csr" ? "csr" : request.params.what === "cert" ? "cert" : undefined;
    const pem = what ? await ctx.tasks.download(request.params.id, what) : undefined;
    if (!what || pem === undefined) {
      throw new CertrotorError(
        "BAD_ARGUMENT",
        `task ${request.params.id} has no ${request.params.what} to download`,
      );
    }
    const name = `${request.params.id.replace(/[^A-Za-z0-9_-]/g, "")}.${what === "csr" ? "csr" : "crt"}.pem`;
    return reply
      .type(what === "csr" ? "application/pkcs10" : "application/x-pem-file")
      .header("content-disposition", `attachment; filename="${name}"`)
      .header("cache-control", "no-store")
      .send(pem);
  });
  app.post<{ Params: { id: string } }>(
    "/tasks/:id/complete",
    {
      onRequest: async (request) => {
        ctx.auth.require(request, "operator");
      },
      preHandler: app.csrfChecked,
    },
    async (request, reply) => {
      const session = ctx.auth.require(request, "operator");
      const file = (request.body as Record<string, unknown> | undefined)?.certificate;
      const certPem = Buffer.isBuffer(file) ? file.toString("utf8") : typeof file === "string" ? file : "";
      if (!certPem.includes("-----BEGIN CERTIFICATE-----")) {
        throw new CertrotorError("BAD_ARGUMENT", "the upload holds no PEM certificate", {
          hint: "choose the signed certificate the bank's portal returned (PEM)",
        });
      }
      await ctx.tasks.complete(request.params.id, certPem, session.user);
      ctx.fleet.invalidate();
      ctx.logger.info({ user: session.user, taskId: request.params.id }, "console: task completed");
      return reply.code(303).redirect(`/tasks?completed=${encodeURIComponent(request.params.id)}`);
    },
  );
}
