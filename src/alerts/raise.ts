/**
 * Raising and ending failure episodes from the jobs: open the episode and queue its one alert; on the
 * end, queue a resolve per open episode (same dedup key) and close it. Alerts go through the notify
 * queue, so a rotation or a scan never waits on a channel.
 */
import type { NotifyJobData } from "../queue/payloads.js";
import { type EpisodeKind, type EpisodeStore, episodeKey, type OpenEpisode } from "./episodes.js";
import { kindLabel } from "./format.js";

/** What queues a notify job (the producer). */
export interface AlertSink {
  enqueueNotify(data: NotifyJobData): Promise<boolean>;
}

export interface RaiseDeps {
  episodes: EpisodeStore;
  sink: AlertSink;
  now: () => Date;
}

/** The safe facts of an alert; the kind, episode, credential and time are added here. */
export type AlertFacts = Omit<NotifyJobData, "kind" | "episode" | "credentialId" | "at">;

/**
 * Opens the (credential, kind) episode and queues its alert; false (and nothing queued) when the episode
 * was already open. If queueing fails the episode is closed again, so a later attempt alerts.
 */
export async function raiseAlert(
  deps: RaiseDeps,
  credentialId: string,
  kind: EpisodeKind,
  facts: AlertFacts,
): Promise<boolean> {
  const at = deps.now();
  if (!(await deps.episodes.open(credentialId, kind, at))) return false;
  try {
    await deps.sink.enqueueNotify({
      kind,
      episode: episodeKey(credentialId, kind),
      credentialId,
      ...facts,
      at: at.toISOString(),
    });
  } catch (error) {
    await deps.episodes.resolve(credentialId, kind, at.toISOString()).catch(() => undefined);
    throw error;
  }
  return true;
}

/**
 * Queues a resolve for each open episode of the credential that `which` selects (default: all) and then
 * closes it; an episode whose resolve could not be queued stays open for the next try.
 */
export async function resolveAlerts(
  deps: RaiseDeps,
  credentialId: string,
  reason: string,
  facts: Omit<AlertFacts, "message"> = {},
  which: (kind: EpisodeKind) => boolean = () => true,
): Promise<OpenEpisode[]> {
  const open = (await deps.episodes.list(credentialId)).filter((episode) => which(episode.kind));
  const resolved: OpenEpisode[] = [];
  for (const episode of open) {
    await deps.sink.enqueueNotify({
      kind: "resolved",
      episode: episodeKey(credentialId, episode.kind),
      credentialId,
      ...facts,
      message: `${kindLabel(episode.kind)} (since ${episode.openedAt}): ${reason}`,
      at: deps.now().toISOString(),
    });
    if (await deps.episodes.resolve(credentialId, episode.kind, episode.openedAt)) resolved.push(episode);
  }
  return resolved;
}

/** A success notice (alerts.notifyOnSuccess): not an episode, so nothing is opened or resolved. */
export async function notifySuccess(
  deps: Pick<RaiseDeps, "sink" | "now">,
  credentialId: string,
  facts: AlertFacts,
): Promise<void> {
  await deps.sink.enqueueNotify({
    kind: "rotation-succeeded",
    episode: episodeKey(credentialId, "rotation-succeeded"),
    credentialId,
    ...facts,
    at: deps.now().toISOString(),
  });
}
