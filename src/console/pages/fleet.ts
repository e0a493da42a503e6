/** GET / (the fleet page), GET /fleet/rows (its htmx fragment) and GET /api/fleet (the same page as JSON). */
import type { FastifyInstance } from "fastify";
import type { ConsoleContext } from "../context.js";
import { parseFleetQuery, queryFleet } from "../fleet-query.js";
import { fleetPage, fleetRows } from "../views/fleet.js";
import { sendFragment, sendPage } from "./send.js";

export function fleetRoutes(app: FastifyInstance, ctx: ConsoleContext): void {
  const banks = Object.keys(ctx.runtime.config.banks);
  const stores = Object.keys(ctx.runtime.config.stores);
  app.get("/", async (request, reply) => {
    ctx.auth.require(request);
    const snapshot = await ctx.fleet.get();
    const page = queryFleet(snapshot.rows, parseFleetQuery(request.query as Record<string, unknown>));
    return sendPage(reply, request, "Fleet", fleetPage(page, banks, stores, snapshot.at), "fleet");
  });
  app.get("/fleet/rows", async (request, reply) => {
    ctx.auth.require(request);
    const snapshot = await ctx.fleet.get();
    return sendFragment(
      reply,
      fleetRows(queryFleet(snapshot.rows, parseFleetQuery(request.query as Record<string, unknown>))),
    );
  });
  app.get("/api/fleet", async (request, reply) => {
    ctx.auth.require(request);
    const snapshot = await ctx.fleet.get();
    const page = queryFleet(snapshot.rows, parseFleetQuery(request.query as Record<string, unknown>));
    return reply.header("cache-control", "no-store").send({ at: snapshot.at, ...page });
  });
}
