/**
 * Console section: the fleet page's first screen (GET /, 25 rows sorted by days left, in the layout) and
 * a search (the htmx fragment) over 10,000 credentials, against the bare JSON API answering the same
 * query in the same run (GET /api/fleet: the same snapshot, filter, sort and page, no HTML). Over real
 * HTTP on loopback with a logged-in session. The snapshot is prepared (building it is a scan, measured by
 * the scan section); the bar is a first screen under 1 s.
 *
 *   node --import tsx bench/console.ts          (BENCH_QUICK=1 for a smoke run)
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { configSchema } from "../src/config/schema.js";
import { FLEET_STATES, type FleetRow, type FleetSnapshot } from "../src/console/fleet.js";
import { hashPassword } from "../src/console/password.js";
import { startConsole } from "../src/console/server.js";
import { createLogger } from "../src/observability/logger.js";
import { createRuntime } from "../src/runtime.js";
import { type BenchRow, quick, row, timeMs } from "./lib.js";

const CREDENTIALS = 10_000;
const N = quick ? 10 : 50;

function syntheticFleet(now: Date): FleetSnapshot {
  const rows: FleetRow[] = Array.from({ length: CREDENTIALS }, (_, i) => {
    const notAfter = new Date(now.getTime() + ((i * 37) % 400) * 86_400_000);
    return {
      id: `payments-${String(i).padStart(5, "0")}`,
      bank: `bank-${i % 7}`,
      store: i % 3 === 0 ? "vault" : "aws",
      subject: `CN=payments-${i},OU=Payments,O=Bench Fintech,C=BR`,
      fingerprint: (i * 2654435761).toString(16).padStart(64, "0").slice(0, 64),
      notAfter: notAfter.toISOString(),
      daysLeft: Math.floor((notAfter.getTime() - now.getTime()) / 86_400_000),
      state: FLEET_STATES[i % FLEET_STATES.length]!,
      message: "renewal at 2/3 of the lifetime",
      boundSlots: 1 + (i % 2),
      lastRotation: { rotationId: `rot-${i}`, status: "succeeded", at: now.toISOString() },
      nextWindow: new Date(notAfter.getTime() - 30 * 86_400_000).toISOString(),
      dueAt: new Date(notAfter.getTime() - 30 * 86_400_000).toISOString(),
      openAlerts: 0,
    };
  });
  return { at: now.toISOString(), rows };
}

export async function run(): Promise<BenchRow[]> {
  const dir = await mkdtemp(join(tmpdir(), "certrotor-bench-console-"));
  const password = "bench-operator-password";
  const config = configSchema.parse({
    stateDir: join(dir, "state"),
    console: {
      users: [
        {
          name: "bench",
          role: "operator",
          passwordHash: await hashPassword(password, { N: 2 ** 12, r: 8, p: 1 }),
        },
      ],
    },
    log: { level: "silent" },
  });
  const logger = createLogger({ level: "silent" });
  const runtime = await createRuntime(config, { logger });
  const snapshot = syntheticFleet(new Date());
  const handle = await startConsole(
    { runtime, logger, fleet: { get: async () => snapshot, invalidate: () => undefined } },
    0,
    "127.0.0.1",
  );
  try {
    const form = await fetch(`${handle.url}/login`);
    const anonymous = /certrotor_session=([^;]+)/.exec(form.headers.get("set-cookie") ?? "")![1]!;
    const csrf = /name="_csrf" value="([^"]+)"/.exec(await form.text())![1]!;
    const login = await fetch(`${handle.url}/login`, {
      method: "POST",
      redirect: "manual",
      headers: {
        cookie: `certrotor_session=${anonymous}`,
        "content-type": "application/x-www-form-urlencoded",
      },
      body: new URLSearchParams({ _csrf: csrf, name: "bench", password }).toString(),
    });
    const session = /certrotor_session=([^;]+)/.exec(login.headers.get("set-cookie") ?? "")![1]!;
    const get = (path: string) => async () => {
      const response = await fetch(`${handle.url}${path}`, {
        headers: { cookie: `certrotor_session=${session}` },
      });
      if (response.status !== 200) throw new Error(`${path}: ${response.status}`);
      await response.text();
    };
    const page = await timeMs(get("/"), N, 3);
    const pageApi = await timeMs(get("/api/fleet"), N, 3);
    const search = await timeMs(get("/fleet/rows?q=payments-099&sort=id"), N, 3);
    const searchApi = await timeMs(get("/api/fleet?q=payments-099&sort=id"), N, 3);
    return [
      row({
        section: "console",
        op: `fleet first screen, ${CREDENTIALS} credentials`,
        value: page,
        baseline: pageApi,
        baselineName: "GET /api/fleet (same page, JSON)",
        unit: "ms",
        n: N,
        notes: page < 1_000 ? "under 1 s" : "OVER 1 s",
      }),
      row({
        section: "console",
        op: `fleet search fragment, ${CREDENTIALS} credentials`,
        value: search,
        baseline: searchApi,
        baselineName: "GET /api/fleet (same query, JSON)",
        unit: "ms",
        n: N,
      }),
    ];
  } finally {
    await handle.close();
    await runtime.close();
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  for (const r of await run()) console.log(JSON.stringify(r));
}
