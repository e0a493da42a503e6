/**
 * The ops console's HTTP server (fastify): cookies, forms, a rate-limited login, CSRF tokens bound to the
 * server-side session, the pages, and one error handler that answers a coded error as a page or as JSON.
 * Served by `certrotor console` and, with console.enabled, by the worker beside its health server.
 */
import { readFile } from "node:fs/promises";
import cookie from "@fastify/cookie";
import csrf from "@fastify/csrf-protection";
import formbody from "@fastify/formbody";
import multipart from "@fastify/multipart";
import rateLimit from "@fastify/rate-limit";
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import { CertrotorError, isCertrotorError, toCertrotorError } from "../errors.js";
import type { Logger } from "../observability/logger.js";
import type { Producer } from "../queue/producer.js";
import { CSS, htmxSource } from "./assets.js";
import { createAuth } from "./auth.js";
import type { ConsoleContext, ConsoleRuntime } from "./context.js";
import { buildFleet, type FleetCache, fleetCache } from "./fleet.js";
import { calendarRoutes } from "./pages/calendar.js";
import { credentialRoutes } from "./pages/credential.js";
import { fleetRoutes } from "./pages/fleet.js";
import { loginRoutes } from "./pages/login.js";
import { rollbackRoutes } from "./pages/rollback.js";
import { sendPage } from "./pages/send.js";
import { tasksRoutes, UPLOAD_LIMIT_BYTES } from "./pages/tasks.js";
import { timelineRoutes } from "./pages/timeline.js";
import { sessionStoreFor } from "./sessions.js";
import { taskViewOf } from "./tasks.js";
import { errorPage } from "./views/forms.js";

declare module "fastify" {
  interface FastifyInstance {
    /** preHandler: the request's session and a CSRF token that matches it, else CONSOLE_CSRF_INVALID. */
    csrfChecked(request: FastifyRequest, reply: FastifyReply, done: (error?: Error) => void): void;
  }
}

export interface ConsoleOptions {
  runtime: ConsoleRuntime;
  logger: Logger;
  /** The queue actions enqueue into (absent without redis: actions are refused). */
  producer?: Producer;
  /** A prepared fleet (the bench); by default built from the runtime and kept console.refresh. */
  fleet?: FleetCache;
}

const STATUS: Partial<Record<string, number>> = {
  CONSOLE_UNAUTHENTICATED: 401,
  CONSOLE_FORBIDDEN: 403,
  CONSOLE_CSRF_INVALID: 403,
  CONSOLE_NO_QUEUE: 409,
  CONSOLE_RATE_LIMITED: 429,
  UNKNOWN_CREDENTIAL: 404,
  BAD_ARGUMENT: 400,
  NOT_SUPPORTED: 404,
  // what a task's completion refuses (the task store's codes, and the certificate checks'): bad input
  UNKNOWN_TASK: 404,
  TASK_CLOSED: 409,
  TASK_CERT_REJECTED: 400,
  PEM_MALFORMED: 400,
  PEM_WRONG_KIND: 400,
  CERT_INVALID: 400,
  CHAIN_INVALID: 400,
  KEY_MISMATCH: 400,
  // what a rollback refuses (the credential is left as it was)
  NO_PREVIOUS: 409,
  PREVIOUS_NOT_BOUND: 409,
};

function csrfError(): CertrotorError {
  return new CertrotorError(
    "CONSOLE_CSRF_INVALID",
    "the form's CSRF token is missing or not this session's",
    {
      hint: "reload the page and submit the form again",
    },
  );
}

export async function buildConsole(options: ConsoleOptions): Promise<FastifyInstance> {
  const { runtime, logger } = options;
  const settings = runtime.config.console;
  const https = settings.tls
    ? { key: await readFile(settings.tls.keyFile), cert: await readFile(settings.tls.certFile) }
    : null;
  const app = (https ? Fastify({ logger: false, https }) : Fastify({ logger: false })) as FastifyInstance;
  const tasks = taskViewOf(runtime);
  const ctx: ConsoleContext = {
    runtime,
    logger,
    tasks,
    auth: createAuth(settings, sessionStoreFor(runtime), runtime.now),
    fleet: options.fleet ?? fleetCache(() => buildFleet(runtime, tasks), settings.refresh),
    ...(options.producer ? { producer: options.producer } : {}),
  };
  await app.register(cookie);
  await app.register(formbody, { bodyLimit: 16_384 });
  // the certificate upload: one small file, its fields (the CSRF token) on request.body
  await app.register(multipart, {
    attachFieldsToBody: "keyValues",
    limits: { files: 1, fileSize: UPLOAD_LIMIT_BYTES, fields: 4, fieldSize: 1024 },
  });
  await app.register(rateLimit, { global: false });
  // the CSRF secret lives in the server-side session (`session._csrf`), read the way @fastify/session is
  await app.register(csrf, { sessionPlugin: "@fastify/session", sessionKey: "_csrf" });
  app.decorateRequest("session", null);
  app.decorate("csrfChecked", function (this: FastifyInstance, request, reply, done) {
    if (!request.session) return done(csrfError());
    this.csrfProtection(request, reply, done as () => void);
  });
  app.addHook("onRequest", async (request, reply) => {
    await ctx.auth.load(request);
    reply.header("x-content-type-options", "nosniff");
    reply.header("x-frame-options", "DENY");
    reply.header("referrer-policy", "same-origin");
    reply.header(
      "content-security-policy",
      "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'",
    );
  });
  app.setErrorHandler((thrown, request, reply) => {
    const fastifyCode = (thrown as { code?: string }).code;
    const statusCode = (thrown as { statusCode?: number }).statusCode;
    const error = fastifyCode?.startsWith("FST_CSRF")
      ? csrfError()
      : statusCode === 429
        ? new CertrotorError(
            "CONSOLE_RATE_LIMITED",
            "too many login attempts from this address: wait a minute",
            {
              hint: "console.loginAttemptsPerMinute",
            },
          )
        : toCertrotorError(thrown);
    const status =
      statusCode === 429
        ? 429
        : (STATUS[error.code] ??
          (statusCode && statusCode < 500 && !isCertrotorError(thrown) ? statusCode : 500));
    if (status >= 500)
      logger.error({ code: error.code, err: error.message, url: request.url }, "console: request failed");
    if (
      status === 401 &&
      request.method === "GET" &&
      !request.url.startsWith("/api/") &&
      !request.url.startsWith("/calendar")
    )
      return reply.code(303).redirect(`/login?next=${encodeURIComponent(request.url)}`);
    const wantsJson =
      request.url.startsWith("/api/") || !String(request.headers.accept ?? "").includes("text/html");
    reply.code(status);
    if (wantsJson)
      return reply.send({
        error: { code: error.code, message: error.message, ...(error.hint ? { hint: error.hint } : {}) },
      });
    return sendPage(reply, request, "Error", errorPage(status, error.code, error.message, error.hint));
  });
  app.get("/assets/htmx.min.js", async (_request, reply) =>
    reply
      .type("text/javascript; charset=utf-8")
      .header("cache-control", "public, max-age=86400")
      .send(htmxSource()),
  );
  app.get("/assets/console.css", async (_request, reply) =>
    reply.type("text/css; charset=utf-8").header("cache-control", "public, max-age=86400").send(CSS),
  );
  loginRoutes(app, ctx);
  fleetRoutes(app, ctx);
  timelineRoutes(app, ctx);
  credentialRoutes(app, ctx);
  rollbackRoutes(app, ctx);
  calendarRoutes(app, ctx);
  tasksRoutes(app, ctx);
  return app;
}

export interface ConsoleHandle {
  readonly app: FastifyInstance;
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

export async function startConsole(
  options: ConsoleOptions,
  port: number,
  host: string,
): Promise<ConsoleHandle> {
  const app = await buildConsole(options);
  try {
    await app.listen({ port, host });
  } catch (error) {
    await app.close().catch(() => undefined);
    const errno = (error as NodeJS.ErrnoException).code ?? "error";
    throw new CertrotorError(
      "LISTEN_FAILED",
      `console cannot listen on ${host}:${port}: ${errno === "EADDRINUSE" ? "the port is already in use" : errno}`,
      {
        cause: error,
        hint: "free the port, or set console.port / --port (0 picks a free port) and console.host",
        details: { host, port, errno },
      },
    );
  }
  const address = app.server.address();
  const bound = typeof address === "object" && address ? address.port : port;
  const scheme = options.runtime.config.console.tls ? "https" : "http";
  const shown = host.includes(":") ? `[${host}]` : host;
  return { app, port: bound, url: `${scheme}://${shown}:${bound}`, close: () => app.close() };
}
