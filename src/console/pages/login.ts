/** GET/POST /login (rate-limited per client address) and POST /logout. */
import type { FastifyInstance } from "fastify";
import { safeNext } from "../auth.js";
import type { ConsoleContext } from "../context.js";
import { loginPage } from "../views/forms.js";
import { sendPage } from "./send.js";

export function loginRoutes(app: FastifyInstance, ctx: ConsoleContext): void {
  app.get("/login", async (request, reply) => {
    await ctx.auth.ensure(request, reply);
    const query = request.query as Record<string, unknown>;
    return sendPage(
      reply,
      request,
      "Log in",
      loginPage(reply.generateCsrf(), safeNext(query.next), query.failed === "1"),
    );
  });
  app.post(
    "/login",
    {
      config: { rateLimit: { max: ctx.runtime.config.console.loginAttemptsPerMinute, timeWindow: 60_000 } },
      preHandler: app.csrfChecked,
    },
    async (request, reply) => {
      const body = (request.body ?? {}) as Record<string, unknown>;
      const name = typeof body.name === "string" ? body.name : "";
      const password = typeof body.password === "string" ? body.password : "";
      const next = safeNext(body.next);
      const user = await ctx.auth.check(name, password);
      if (!user) {
        ctx.logger.warn({ user: name.slice(0, 64), ip: request.ip }, "console: failed login");
        return reply.code(303).redirect(`/login?failed=1&next=${encodeURIComponent(next)}`);
      }
      await ctx.auth.login(request, reply, user);
      ctx.logger.info({ user: user.name, role: user.role }, "console: login");
      return reply.code(303).redirect(next);
    },
  );
  app.post("/logout", { preHandler: app.csrfChecked }, async (request, reply) => {
    await ctx.auth.logout(request, reply);
    return reply.code(303).redirect("/login");
  });
}
