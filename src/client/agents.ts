/**
 * One https.Agent per client material, kept alive for a consumer's repeated calls, and the retirement of
 * an agent after a rotation: its idle sockets close at once (a request still holding the old agent must
 * not reuse them), the busy ones finish their exchange, and the agent is destroyed once the last one is
 * free, or after `drainMs` at the latest.
 */
import { Agent } from "node:https";
import type { MtlsSession } from "../bank/mtls.js";

/** A keep-alive agent presenting the session's certificate; server verification always on. */
export function keepAliveAgent(session: MtlsSession, maxSockets: number): Agent {
  return new Agent({
    keepAlive: true,
    maxSockets,
    // passed through to tls.connect for every connection of this agent: the pinned CA, cert and key
    secureContext: session.secureContext,
    minVersion: session.minVersion,
    maxVersion: session.maxVersion,
    // explicit, so no environment setting can turn verification off
    rejectUnauthorized: true,
  });
}

const anyIn = (pool: NodeJS.ReadOnlyDict<unknown[]>): boolean =>
  Object.values(pool).some((list) => (list?.length ?? 0) > 0);

/** Destroys `agent` once its exchanges in flight are done (or after `drainMs`); resolves then. */
export function retireAgent(agent: Agent, drainMs: number): Promise<void> {
  for (const list of Object.values(agent.freeSockets)) for (const socket of list ?? []) socket.destroy();
  const busy = (): boolean => anyIn(agent.sockets) || anyIn(agent.requests);
  if (!busy()) {
    agent.destroy();
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      agent.off("free", onFree);
      agent.destroy();
      resolve();
    };
    // runs after the agent's own "free" handler has moved the socket out of `sockets`
    const onFree = (): void => {
      if (!busy()) done();
    };
    const timer = setTimeout(done, drainMs).unref();
    agent.on("free", onFree);
  });
}
