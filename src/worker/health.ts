/**
 * The worker's HTTP surface: /healthz (the process is alive), /readyz (Redis answers and stores and
 * banks are configured). Metrics are added to the same server by the observability module.
 */
import Fastify, { type FastifyInstance } from "fastify";

export interface HealthChecks {
  /** Throws (or resolves false) when a dependency is not ready; the message names it. */
  ready(): Promise<{ ok: boolean; checks: Record<string, string> }>;
}

export async function startHealthServer(
  port: number,
  host: string,
  checks: HealthChecks,
): Promise<{ app: FastifyInstance; port: number }> {
  const app = Fastify({ logger: false });
  app.get("/healthz", async () => ({ status: "ok" }));
  app.get("/readyz", async (_request, reply) => {
    const result = await checks.ready().catch((error: unknown) => ({
      ok: false,
      checks: { error: error instanceof Error ? error.message : String(error) },
    }));
    return reply
      .code(result.ok ? 200 : 503)
      .send({ status: result.ok ? "ready" : "not ready", checks: result.checks });
  });
  await app.listen({ port, host });
  const address = app.server.address();
  return { app, port: typeof address === "object" && address ? address.port : port };
}
