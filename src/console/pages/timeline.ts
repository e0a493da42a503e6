/** GET /timeline[?bank=]: the SVG calendar of the next 12 months. */
import type { FastifyInstance } from "fastify";
import type { ConsoleContext } from "../context.js";
import { timelinePage } from "../views/timeline.js";
import { sendPage } from "./send.js";

/** Lanes drawn: the soonest expiries (the table and the fleet page have the rest). */
const LANES = 60;

export function timelineRoutes(app: FastifyInstance, ctx: ConsoleContext): void {
  app.get("/timeline", async (request, reply) => {
    ctx.auth.require(request);
    const now = ctx.runtime.now();
    const bank = (request.query as Record<string, unknown>).bank;
    const bankName = typeof bank === "string" && bank !== "" ? bank : undefined;
    const horizon = now.getTime() + 366 * 86_400_000;
    const rows = (await ctx.fleet.get()).rows
      .filter((r) => r.notAfter && Date.parse(r.notAfter) <= horizon && (!bankName || r.bank === bankName))
      .sort((a, b) => a.notAfter!.localeCompare(b.notAfter!) || a.id.localeCompare(b.id));
    return sendPage(
      reply,
      request,
      "Timeline",
      timelinePage(rows.slice(0, LANES), rows.length, now, bankName),
      "timeline",
    );
  });
}
