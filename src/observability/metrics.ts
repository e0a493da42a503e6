/**
 * Prometheus metrics of one worker process, in the style of cert-manager's `certmanager_certificate_*`
 * series (per credential: expiry, renewal time, bound slots, last success) plus rotation outcomes, step
 * durations, queue depths and alert deliveries. Names and labels are a contract: infra/prometheus alert
 * rules are built on them. Base units: seconds, unix timestamps in seconds.
 *
 * One Registry per worker (never prom-client's global default registry), so several workers in one
 * process — tests do this — keep their own series.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { StepName } from "../journal/types.js";
import type { ScanEntry } from "../rotation/scan.js";

/** What the per-credential gauges take from a scan entry (a scan of thousands keeps only this much). */
export type ScanGauges = Pick<ScanEntry, "credentialId" | "notAfter" | "dueAt" | "boundSlots">;
import { within } from "../util/within.js";

/** How a rotate job ended. The first three are "the new material is current". */
const ROTATION_OUTCOMES = [
  "succeeded",
  "retire-due",
  "consumers-on-old-cert",
  "not-due",
  "failed",
  "rolled-back",
] as const;
export type RotationOutcomeLabel = (typeof ROTATION_OUTCOMES)[number];

const PROMOTED: ReadonlySet<RotationOutcomeLabel> = new Set([
  "succeeded",
  "retire-due",
  "consumers-on-old-cert",
]);

/** delivered / failed (an attempt failed, a retry follows) / given-up (the last attempt failed). */
export type AlertDeliveryOutcome = "delivered" | "failed" | "given-up";

/** What the queue gauge reads on each scrape (a BullMQ Queue fits; no BullMQ import here). */
export interface QueueCounts {
  readonly name: string;
  getJobCounts(): Promise<Record<string, number>>;
}

/** Step durations span a P-256 plan (ms) to RSA-4096 keygen and slow bank calls (tens of seconds). */
const STEP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

export interface MetricsOptions {
  /** process_* and nodejs_* series (default true). */
  defaultMetrics?: boolean;
  /** Bound of the queue counts (and open tasks) read on a scrape, so a down Redis cannot hang /metrics (default 1 s). */
  queueTimeoutMs?: number;
  /** Clock of the task age gauge, ms (the runtime's `now`). */
  now?: () => number;
}

export interface WorkerMetrics {
  /** The exposition format's content type, for the /metrics answer. */
  readonly contentType: string;
  /** The whole exposition text (reads the queue counts). */
  text(): Promise<string>;
  /** One rotate job ended. A promoted outcome also sets the last-success time to `at`. */
  recordRotation(credentialId: string, outcome: RotationOutcomeLabel, errorCode?: string, at?: Date): void;
  recordStepDuration(step: StepName, seconds: number): void;
  /** The credential's current certificate changed (a promote): its not-after, until the next scan. */
  recordCertificate(credentialId: string, notAfter: Date): void;
  /** Replaces the per-credential gauges with what a scan saw (credentials gone from config drop out). */
  recordScan(entries: readonly ScanGauges[]): void;
  /**
   * One delivery attempt of one alert to one channel (the notify job reports each). A given-up attempt
   * also counts as failed, so `outcome="failed"` counts every failed attempt.
   */
  recordAlertDelivery(channel: string, outcome: AlertDeliveryOutcome): void;
  /** Counts of these queues are read on every scrape. */
  watchQueues(queues: readonly QueueCounts[]): void;
  /** The open human tasks are read from `source` on every scrape (pending count, oldest age). */
  watchTasks(source: OpenTasks): void;
}

/** The open human tasks with when each opened (the task store's list fits; no tasks import here). */
export type OpenTasks = () => Promise<ReadonlyArray<{ createdAt: string }>>;

const seconds = (date: Date): number => date.getTime() / 1000;

function definitions(registry: Registry) {
  const registers = [registry];
  return {
    notAfter: new Gauge({
      name: "certrotor_certificate_not_after_timestamp_seconds",
      help: "Expiry (notAfter) of the credential's current certificate, unix seconds.",
      labelNames: ["credential"],
      registers,
    }),
    renewal: new Gauge({
      name: "certrotor_certificate_renewal_timestamp_seconds",
      help: "When the credential's current certificate is planned to be renewed (window applied), unix seconds.",
      labelNames: ["credential"],
      registers,
    }),
    bound: new Gauge({
      name: "certrotor_bound_certificates",
      help: "Certificates bound to the credential at the bank (the bank allows 2).",
      labelNames: ["credential"],
      registers,
    }),
    lastSuccess: new Gauge({
      name: "certrotor_last_successful_rotation_timestamp_seconds",
      help: "When a rotation of the credential last made new material current, unix seconds.",
      labelNames: ["credential"],
      registers,
    }),
    rotations: new Counter({
      name: "certrotor_rotations_total",
      help: "Rotate jobs ended, by outcome and error code (empty unless the rotation failed).",
      labelNames: ["credential", "outcome", "error_code"],
      registers,
    }),
    steps: new Histogram({
      name: "certrotor_rotation_step_duration_seconds",
      help: "Duration of one rotation step in one attempt (failed attempts included).",
      labelNames: ["step"],
      buckets: STEP_BUCKETS,
      registers,
    }),
    deliveries: new Counter({
      name: "certrotor_alert_deliveries_total",
      help: "Alert delivery attempts by channel and outcome: delivered, failed (every failed attempt, the last included), given-up (the alert was abandoned on the channel).",
      labelNames: ["channel", "outcome"],
      registers,
    }),
  };
}

/** The queue gauge: counts read at scrape time, dropped (not left stale) when Redis does not answer. */
function queueGauge(registry: Registry, sources: QueueCounts[], timeoutMs: number): Gauge {
  return new Gauge({
    name: "certrotor_queue_jobs",
    help: "Jobs in each certrotor queue by state (waiting, active, delayed, completed, failed, ...).",
    labelNames: ["queue", "state"],
    registers: [registry],
    async collect() {
      this.reset();
      const read = Promise.all(
        sources.map(async (queue) => [queue.name, await queue.getJobCounts()] as const),
      ).catch(() => null);
      const counts = await within(read, timeoutMs, null);
      for (const [queue, byState] of counts ?? []) {
        for (const [state, count] of Object.entries(byState)) this.set({ queue, state }, count);
      }
    },
  });
}

/**
 * The task gauges, read at scrape time (a task opened or closed shows at once, not at the next scan);
 * left out, not stale, when the state does not answer within the bound.
 */
function taskGauges(registry: Registry, sources: OpenTasks[], timeoutMs: number, now: () => number): void {
  const read = () =>
    within(
      Promise.all(sources.map((source) => source())).then((lists) => lists.flat()),
      timeoutMs,
      null,
    ).catch(() => null);
  new Gauge({
    name: "certrotor_manual_tasks_pending",
    help: "Open human tasks (bind, unbind, sign in a bank's portal) waiting for a person.",
    registers: [registry],
    async collect() {
      this.reset();
      const tasks = sources.length > 0 ? await read() : null;
      if (tasks) this.set(tasks.length);
    },
  });
  new Gauge({
    name: "certrotor_manual_task_oldest_age_seconds",
    help: "Age of the oldest open human task, seconds (0 when none is open).",
    registers: [registry],
    async collect() {
      this.reset();
      const tasks = sources.length > 0 ? await read() : null;
      if (!tasks) return;
      const oldest = Math.min(...tasks.map((t) => Date.parse(t.createdAt)));
      this.set(tasks.length === 0 ? 0 : Math.max(0, (now() - oldest) / 1000));
    },
  });
}

export function createMetrics(options: MetricsOptions = {}): WorkerMetrics {
  const registry = new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  const m = definitions(registry);
  const queues: QueueCounts[] = [];
  queueGauge(registry, queues, options.queueTimeoutMs ?? 1_000);
  const taskSources: OpenTasks[] = [];
  taskGauges(registry, taskSources, options.queueTimeoutMs ?? 1_000, options.now ?? Date.now);
  return {
    contentType: registry.contentType,
    text: () => registry.metrics(),
    recordRotation(credential, outcome, errorCode = "", at = new Date()) {
      m.rotations.inc({ credential, outcome, error_code: errorCode });
      if (PROMOTED.has(outcome)) m.lastSuccess.set({ credential }, seconds(at));
    },
    recordStepDuration(step, duration) {
      m.steps.observe({ step }, duration);
    },
    recordCertificate(credential, notAfter) {
      m.notAfter.set({ credential }, seconds(notAfter));
    },
    recordScan(entries) {
      for (const gauge of [m.notAfter, m.renewal, m.bound]) gauge.reset();
      for (const entry of entries) {
        const credential = entry.credentialId;
        if (entry.notAfter) m.notAfter.set({ credential }, seconds(new Date(entry.notAfter)));
        if (entry.dueAt) m.renewal.set({ credential }, seconds(new Date(entry.dueAt)));
        if (entry.boundSlots !== undefined) m.bound.set({ credential }, entry.boundSlots);
      }
    },
    recordAlertDelivery(channel, outcome) {
      if (outcome === "given-up") m.deliveries.inc({ channel, outcome: "failed" });
      m.deliveries.inc({ channel, outcome });
    },
    watchQueues(sources) {
      queues.push(...sources);
    },
    watchTasks(source) {
      taskSources.push(source);
    },
  };
}
