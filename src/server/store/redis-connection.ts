import { createAdapter, createShardedAdapter } from "@socket.io/redis-adapter";
import { createClient, createCluster } from "redis";
import type { Logger } from "../logger.ts";
import type { SendCommand } from "./lua-script.ts";

export type RedisClient = ReturnType<typeof createClient>;
export type RedisCluster = ReturnType<typeof createCluster>;
/** What connect-redis and the adapters accept: a client or a cluster. */
export type RedisConnection = RedisClient | RedisCluster;
/** An adapter constructor, as `new Server({adapter})` takes it. */
export type SocketIoAdapter =
  | ReturnType<typeof createAdapter>
  | ReturnType<typeof createShardedAdapter>;

/**
 * The connections an instance holds. They are separate so that they don't
 * block each other: a subscriber can run no other command, and the command
 * connection refuses work at once while Redis is down (no offline queue), so
 * that a chat message fails fast with `unavailable` instead of hanging.
 */
export type RedisConnections =
  | Connections<"single", RedisClient>
  | Connections<"cluster", RedisCluster>;

interface Connections<Mode extends "single" | "cluster", C extends RedisConnection> {
  /** "single": one Redis, one channel for all messages; "cluster": sharded pub/sub per room. */
  mode: Mode;
  /** Commands; fails fast while Redis is unreachable. */
  command: C;
  /** Subscriber for the message channels and the Socket.IO adapter. */
  subscriber: C;
  /** Publisher of the Socket.IO adapter; queues while Redis is down. */
  adapterPublisher: C;
  send: SendCommand;
  /** The Socket.IO adapter that fits the mode (classic or sharded pub/sub). */
  adapter(prefix: string): SocketIoAdapter;
  /** True while commands and subscriptions work. */
  isReady(): boolean;
  close(): Promise<void>;
}

/** Reconnect quickly at first, then every 2 s at most, with jitter, forever. */
function reconnectStrategy(retries: number): number {
  return Math.min(50 * 2 ** retries, 2000) + Math.floor(Math.random() * 100);
}

/** One line per 5 s per connection: a dead Redis raises an error per reconnect attempt. */
function logErrors(connection: RedisConnection, name: string, log: Logger): void {
  let lastLogged = 0;
  connection.on("error", (error: Error) => {
    const now = Date.now();
    if (now - lastLogged < 5000) return;
    lastLogged = now;
    log.warn({ connection: name, err: error.message }, "redis connection error");
  });
}

async function closeAll(connections: RedisConnection[]): Promise<void> {
  for (const connection of connections) {
    try {
      if (connection.isOpen) await connection.close();
    } catch {
      connection.destroy();
    }
  }
}

/** Connects to one Redis, or to a Redis Cluster when seed nodes are given. */
export function connectRedis(
  target: { url: string; clusterNodes: readonly string[] },
  log: Logger,
): Promise<RedisConnections> {
  return target.clusterNodes.length > 0
    ? connectCluster(target.clusterNodes, log)
    : connectSingle(target.url, log);
}

async function connectSingle(url: string, log: Logger): Promise<RedisConnections> {
  const make = (name: string, failFast: boolean): RedisClient => {
    const client = createClient({
      url,
      name: `switchboard-${name}`,
      disableOfflineQueue: failFast,
      socket: { reconnectStrategy, connectTimeout: 5000 },
    });
    logErrors(client, name, log);
    client.on("ready", () => log.info({ connection: name }, "redis connection ready"));
    return client;
  };

  const command = make("command", true);
  const subscriber = make("subscriber", false);
  const adapterPublisher = make("adapter-pub", false);
  await Promise.all([command.connect(), subscriber.connect(), adapterPublisher.connect()]);

  return {
    mode: "single",
    command,
    subscriber,
    adapterPublisher,
    send: <T>(args: string[]) => command.sendCommand(args) as Promise<T>,
    adapter: (prefix) => createAdapter(adapterPublisher, subscriber, { key: prefix }),
    isReady: () => command.isReady && subscriber.isReady,
    close: () => closeAll([subscriber, adapterPublisher, command]),
  };
}

async function connectCluster(nodes: readonly string[], log: Logger): Promise<RedisConnections> {
  const make = (name: string, failFast: boolean): RedisCluster => {
    const cluster = createCluster({
      rootNodes: nodes.map((url) => ({ url })),
      defaults: {
        name: `switchboard-${name}`,
        disableOfflineQueue: failFast,
        socket: { reconnectStrategy, connectTimeout: 5000 },
      },
    });
    logErrors(cluster, name, log);
    return cluster;
  };

  const command = make("command", true);
  const subscriber = make("subscriber", false);
  const adapterPublisher = make("adapter-pub", false);
  await Promise.all([command.connect(), subscriber.connect(), adapterPublisher.connect()]);

  // A cluster client has no single "ready": a ping to some node every second tells.
  let healthy = true;
  const probe = setInterval(() => {
    command.sendCommand(undefined, true, ["PING"]).then(
      () => {
        healthy = true;
      },
      () => {
        healthy = false;
      },
    );
  }, 1000);
  probe.unref();

  return {
    mode: "cluster",
    command,
    subscriber,
    adapterPublisher,
    send: <T>(args: string[], firstKey?: string) =>
      command.sendCommand(firstKey, false, args) as Promise<T>,
    adapter: (prefix) =>
      createShardedAdapter(adapterPublisher, subscriber, { channelPrefix: prefix }),
    isReady: () => healthy && command.isOpen && subscriber.isOpen,
    close: async () => {
      clearInterval(probe);
      await closeAll([subscriber, adapterPublisher, command]);
    },
  };
}
