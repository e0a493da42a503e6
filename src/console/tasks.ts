/**
 * The console's view of human tasks (bind a certificate in a portal, have a CSR signed, unbind an old
 * certificate). The console reads them only through this port; `taskViewOf` adapts any store whose
 * `list({ status, credentialId })` answers task records (the shared-state task store fits), so wiring it
 * is `tasks: taskViewOf(runtime.tasks)`. Until then `noTasks` answers: nobody is awaited.
 *
 * A view never carries PEM (certificates and CSRs are public, but pages hold no PEM at all, which keeps the
 * secret scan simple): only whether there is a CSR or certificate to download.
 */
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
  download?(taskId: string, what: "csr" | "cert"): Promise<string | undefined>;
  /**
   * Completes a sign-csr task with the signed certificate a person uploaded, validated exactly as
   * `certrotor task complete --cert` validates it (its coded error otherwise, nothing changed); `actor`
   * is the operator's name.
   */
  complete?(taskId: string, certPem: string, actor: string): Promise<void>;
}

export const noTasks: TaskView = { open: async () => [] };

/** The fields of a stored task the console shows (a structural subset of the task store's records). */
export interface StoredTask {
  id: string;
  kind: string;
  credentialId: string;
  rotationId: string;
  bank: string;
  createdAt: string;
  deadline: string;
  fingerprint?: string;
  csrPem?: string;
  certPem?: string;
}

const SUMMARIES: Record<string, string> = {
  "bind-certificate": "bind the new certificate in the bank's portal",
  "sign-csr": "have the CSR signed at the bank's portal and upload the certificate",
  "unbind-certificate": "unbind the old certificate in the bank's portal",
};

export function taskViewOf(store: {
  list(filter?: { status?: "open"; credentialId?: string }): Promise<readonly StoredTask[]>;
}): TaskView {
  return {
    async open(credentialId) {
      const tasks = await store.list({ status: "open", ...(credentialId ? { credentialId } : {}) });
      return tasks.map((t) => ({
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
      }));
    },
  };
}
