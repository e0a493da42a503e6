/**
 * The console's view of human tasks (bind a certificate in a portal, have a CSR signed, unbind an old
 * certificate), read from the runtime's task store (the shared state, as `certrotor task` reads it).
 * Completing one goes through completeTask (rotation/complete-task.ts), the function `certrotor task
 * complete --cert` calls: the console validates an upload exactly as the CLI does.
 *
 * A view never carries PEM (certificates and CSRs are public, but pages hold no PEM at all, which keeps the
 * secret scan simple): only whether there is a CSR or certificate to download.
 */
import { completeTask, findTask, type TaskRuntime } from "../rotation/complete-task.js";
import type { HumanTask } from "../tasks/types.js";

export interface ConsoleTask {
  id: string;
  credentialId: string;
  kind: string;
  /** ISO 8601. */
  createdAt: string;
  deadline?: string;
  rotationId?: string;
  fingerprint?: string;
  hasCsr: boolean;
  hasCert: boolean;
  /** Safe text for the page (never material). */
  summary: string;
}

export interface TaskView {
  /** Open tasks, of one credential or of all. */
  open(credentialId?: string): Promise<ConsoleTask[]>;
  /** The task's CSR or certificate (public PEM) for download; undefined when it has none. */
  download(taskId: string, what: "csr" | "cert"): Promise<string | undefined>;
  /**
   * Completes a sign-csr task with the signed certificate a person uploaded, validated exactly as
   * `certrotor task complete --cert` validates it (its coded error otherwise, nothing changed); `operator`
   * is the operator's console name.
   */
  complete(taskId: string, certPem: string, operator: string): Promise<HumanTask>;
}

const SUMMARIES: Record<string, string> = {
  "bind-certificate": "bind the new certificate in the bank's portal",
  "sign-csr": "have the CSR signed at the bank's portal and upload the certificate",
  "unbind-certificate": "unbind the old certificate in the bank's portal",
};

function viewOf(t: HumanTask): ConsoleTask {
  return {
    id: t.id,
    credentialId: t.credentialId,
    kind: t.kind,
    createdAt: t.createdAt,
    deadline: t.deadline,
    rotationId: t.rotationId,
    ...(t.fingerprint ? { fingerprint: t.fingerprint } : {}),
    hasCsr: t.csrPem !== undefined,
    hasCert: t.certPem !== undefined,
    summary: `${SUMMARIES[t.kind] ?? t.kind} (bank ${t.bank}), by ${t.deadline}`,
  };
}

export function taskViewOf(runtime: TaskRuntime): TaskView {
  return {
    async open(credentialId) {
      const tasks = await runtime.tasks.list({ status: "open", ...(credentialId ? { credentialId } : {}) });
      return tasks.map(viewOf);
    },
    async download(taskId, what) {
      const task = await findTask(runtime.tasks, taskId);
      return what === "csr" ? task.csrPem : task.certPem;
    },
    complete: (taskId, certPem, operator) => completeTask(runtime, taskId, { signed: { certPem }, operator }),
  };
}
