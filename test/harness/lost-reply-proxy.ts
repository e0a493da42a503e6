/**
 * A TCP proxy in front of a redis-server that can lose one reply: armed with a marker, it forwards the
 * first client chunk containing the marker to the server, swallows the server's answer to it and cuts
 * the client's connection, as a Redis restart between running a command and answering it does. ioredis
 * then reconnects through the proxy and sends the command again (autoResendUnfulfilledCommands), so a
 * test sees what a second run of an already-applied write answers.
 */
import { once } from "node:events";
import { createServer, type Server, type Socket, connect } from "node:net";

export interface LostReplyProxy {
  url: string;
  /** Lose the reply to the next command whose bytes contain `marker`; resolves once it was lost. */
  loseNextReply(marker: string): Promise<void>;
  stop(): Promise<void>;
}

export async function startLostReplyProxy(upstreamPort: number): Promise<LostReplyProxy> {
  let armed: { marker: string; lost: () => void } | null = null;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(upstreamPort, "127.0.0.1");
    sockets.add(client).add(upstream);
    let dropping: (() => void) | null = null;
    client.on("data", (chunk) => {
      if (armed && chunk.includes(armed.marker)) {
        dropping = armed.lost;
        armed = null;
      }
      upstream.write(chunk);
    });
    upstream.on("data", (chunk) => {
      if (!dropping) {
        client.write(chunk);
        return;
      }
      // the command ran on the server; its answer never reaches the client
      const lost = dropping;
      dropping = null;
      client.destroy();
      upstream.destroy();
      lost();
    });
    const cleanup = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on("close", cleanup).on("error", cleanup);
    upstream.on("close", cleanup).on("error", cleanup);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("proxy: no port");
  return {
    url: `redis://127.0.0.1:${address.port}`,
    loseNextReply: (marker) =>
      new Promise<void>((resolve) => {
        armed = { marker, lost: resolve };
      }),
    async stop() {
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, "close");
    },
  };
}
