/**
 * The worker's HTTP surface: /healthz (the process is alive), /readyz (Redis answers and stores and
 * banks are configured), /metrics (Prometheus text format, from src/observability/metrics.ts).
 */
import Fastify, { type FastifyInstance } from "fastify";
import { CertrotorError } from "../errors.js";
import { within } from "../util/within.js";

/** Readiness must answer quickly: a dependency that accepts connections but never replies is not ready. */
export const READY_TIMEOUT_MS = 1_000;

/** What /metrics serves (WorkerMetrics fits). */
export interface MetricsSource {
  readonly contentType: string;
  text(): Promise<string>;
}

export interface HealthChecks {
  /** Throws (or resolves false) when a dependency is not ready; the message names it. */
  ready(): Promise<{ ok: boolean; checks: Record<string, string> }>;
  /** Served on /metrics when given. */
  metrics?: MetricsSource;
}

export async function startHealthServer(
  port: number,
  host: string,
  checks: HealthChecks,
): Promise<{ app: FastifyInstance; port: number }> {
  const app = Fastify({ logger: false });
  app.get("/healthz", async () => ({ status: "ok" }));
  const { metrics } = checks;
  if (metrics) {
    app.get("/metrics", async (_request, reply) =>
      reply.type(metrics.contentType).send(await metrics.text()),
    );
  }
  app.get("/readyz", async (_request, reply) => {
    const unanswered = { ok: false, checks: { error: `no answer within ${READY_TIMEOUT_MS} ms` } };
    const result = await within(checks.ready(), READY_TIMEOUT_MS, unanswered).catch((error: unknown) => ({
      ok: false,
      checks: { error: error instanceof Error ? error.message : String(error) },
    }));
    return reply
      .code(result.ok ? 200 : 503)
      .send({ status: result.ok ? "ready" : "not ready", checks: result.checks });
  });
  try {
    await app.listen({ port, host });
  } catch (error) {
    await app.close().catch(() => undefined);
    const errno = (error as NodeJS.ErrnoException).code ?? "error";
    const why =
      errno === "EADDRINUSE"
        ? "the port is already in use"
        : errno === "EACCES"
          ? "permission denied"
          : errno === "EADDRNOTAVAIL" || errno === "ENOTFOUND"
            ? "the address is not one of this host's"
            : errno;
    throw new CertrotorError("LISTEN_FAILED", `health server cannot listen on ${host}:${port}: ${why}`, {
      cause: error,
      hint: "free the port, or set worker.port / --port (0 picks a free port) and worker.host",
      details: { host, port, errno },
    });
  }
  const address = app.server.address();
  return { app, port: typeof address === "object" && address ? address.port : port };
}
