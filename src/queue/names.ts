/**
 * Queue names and job ids. Every queue lives under the configured prefix, whose {hash tag} keeps all of
 * certrotor's keys in one Redis Cluster slot (BullMQ's multi-key scripts need that).
 */
export const QUEUES = {
  scan: "scan",
  rotate: "rotate",
  retire: "retire",
  notify: "notify",
} as const;
export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

/** One rotate job per credential at a time: a second add with the same id is ignored while it exists. */
export function rotateJobId(credentialId: string): string {
  return `rotate-${credentialId}`;
}

export function retireJobId(rotationId: string): string {
  return `retire-${rotationId}`;
}

/**
 * One notification per episode, kind and moment: a later episode of the same credential and kind (after
 * a resolve) gets its own job even while the earlier job is still kept; re-adding the same one is a no-op.
 */
export function notifyJobId(episode: string, kind: string, at: string): string {
  return `notify-${kind}-${episode}-${Date.parse(at)}`.replace(/[^A-Za-z0-9._-]/g, "-");
}

export const SCAN_SCHEDULER_ID = "scan-schedule";
export const RETIRE_SCHEDULER_ID = "retire-sweep";
