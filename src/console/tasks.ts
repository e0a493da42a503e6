/**
 * The console's view of human tasks (a CSR to be signed by a person, a certificate to upload). The task
 * store is built on another branch; the console reads it only through this port, so wiring it is one
 * adapter beside this file. Until then `noTasks` answers: no credential is awaiting a person.
 */
export interface ConsoleTask {
  id: string;
  credentialId: string;
  kind: string;
  /** ISO 8601. */
  createdAt: string;
  /** Safe text for the page (never material). */
  summary: string;
}

export interface TaskView {
  /** Open tasks, of one credential or of all. */
  open(credentialId?: string): Promise<ConsoleTask[]>;
}

export const noTasks: TaskView = { open: async () => [] };
