/**
 * GET /calendar.ics[?bank=]: expiries and scheduled rotations for ops calendars. A calendar client cannot
 * fill a login form, so besides the session cookie this one read also takes HTTP Basic credentials of a
 * console user (over TLS only, in production), rate-limited like the login.
 */
import type { FastifyInstance, FastifyRequest } from "fastify";
import { CertrotorError } from "../../errors.js";
import type { ConsoleContext } from "../context.js";
import { fleetCalendar } from "../ics.js";

async function basicUser(ctx: ConsoleContext, request: FastifyRequest): Promise<boolean> {
  const header = request.headers.authorization;
  if (!header?.startsWith("Basic ")) return false;
  const decoded = Buffer.from(header.slice(6), "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) return false;
  return (await ctx.auth.check(decoded.slice(0, colon), decoded.slice(colon + 1))) !== null;
}

export function calendarRoutes(app: FastifyInstance, ctx: ConsoleContext): void {
  app.get(
    "/calendar.ics",
    {
      config: {
        rateLimit: { max: ctx.runtime.config.console.loginAttemptsPerMinute * 6, timeWindow: 60_000 },
      },
    },
    async (request, reply) => {
      if (!request.session?.user && !(await basicUser(ctx, request))) {
        reply.header("www-authenticate", 'Basic realm="certrotor", charset="UTF-8"');
        throw new CertrotorError(
          "CONSOLE_UNAUTHENTICATED",
          "the calendar needs a console login (session or HTTP Basic)",
        );
      }
      const bank = (request.query as Record<string, unknown>).bank;
      const rows = (await ctx.fleet.get()).rows.filter(
        (r) => typeof bank !== "string" || bank === "" || r.bank === bank,
      );
      return reply
        .type("text/calendar; charset=utf-8")
        .header("content-disposition", 'inline; filename="certrotor.ics"')
        .header("cache-control", "no-store")
        .send(fleetCalendar(rows, ctx.runtime.now()));
    },
  );
}
