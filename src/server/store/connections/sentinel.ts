import { createAdapter } from "@socket.io/redis-adapter";
import { createSentinel } from "redis";
import type { Logger } from "../../logger.ts";
import type { RedisConnections } from "../redis-connection.ts";
import { isTransientRedisError } from "../redis-errors.ts";
import { MasterSubscriber, SentinelMaster } from "./sentinel-master.ts";
import {
  ConnectionMarks,
  connectedReplicas,
  healthProbe,
  logErrors,
  reconnectStrategy,
  retrying,
  withDeadline,
} from "./shared.ts";

type RedisSentinel = ReturnType<typeof createSentinel>;
type TopologyChange = { type: string; node?: { host: string; port: number } };

/** How long one command may take on the connection to the master. */
const COMMAND_DEADLINE_MS = 2500;
/**
 * How long one command may wait in node-redis's Sentinel client, the path
 * taken while the direct connection to the master is down: it holds a
 * command until it has found the master again. Short, so that the command
 * is tried again on the direct connection as soon as that has moved to the
 * new master; longer than a WAIT (REDIS_REPLICA_ACK_TIMEOUT_MS).
 */
const FALLBACK_DEADLINE_MS = 1000;
/**
 * How long a command keeps trying through a failover before the user is
 * told `unavailable` (and the client retries with the same clientId); below
 * the client's 5 s acknowledgement timeout.
 */
const COMMAND_BUDGET_MS = 3000;

/**
 * A master and its replicas behind Sentinels. Commands and the message bus's
 * subscriptions go over connections straight to the master, moved the moment
 * a Sentinel announces `+switch-master` (`SentinelMaster`,
 * `MasterSubscriber`). node-redis's Sentinel client, which follows a failover
 * seconds later, carries the sessions and the Socket.IO adapter, and is the
 * commands' fallback while the direct connection is down. Two of those, so
 * that commands fail fast while the adapter's traffic may queue.
 */
export async function connectSentinel(
  urls: readonly string[],
  masterName: string,
  log: Logger,
): Promise<RedisConnections> {
  const nodes = urls.map((raw) => {
    const url = new URL(raw);
    return { host: url.hostname, port: Number(url.port) };
  });
  const first = new URL(urls[0] ?? "redis://127.0.0.1:26379");
  const credentials = {
    ...(first.username === "" ? {} : { username: decodeURIComponent(first.username) }),
    ...(first.password === "" ? {} : { password: decodeURIComponent(first.password) }),
  };
  const make = (name: string, failFast: boolean): RedisSentinel => {
    const sentinel = createSentinel({
      name: masterName,
      sentinelRootNodes: nodes,
      nodeClientOptions: {
        ...credentials,
        name: `switchboard-${name}`,
        disableOfflineQueue: failFast,
        socket: { reconnectStrategy, connectTimeout: 5000 },
      },
      sentinelClientOptions: { ...credentials, socket: { connectTimeout: 5000 } },
      // Besides the Sentinels' announcements, look again now and then.
      scanInterval: 5000,
    });
    logErrors(sentinel, name, log);
    sentinel.on("topology-change", (event: TopologyChange) => {
      log.info({ connection: name, change: event.type, node: event.node }, "redis topology change");
    });
    return sentinel;
  };

  const command = make("command", true);
  const pubsub = make("pubsub", false);
  await Promise.all([command.connect(), pubsub.connect()]);

  const run = <T>(args: string[]): Promise<T> => {
    const direct = master.ready;
    return direct !== undefined
      ? withDeadline(direct.sendCommand(args) as Promise<T>, COMMAND_DEADLINE_MS)
      : withDeadline(command.sendCommand(false, args) as Promise<T>, FALLBACK_DEADLINE_MS);
  };
  const send = <T>(args: string[]): Promise<T> => retrying(() => run<T>(args), COMMAND_BUDGET_MS);
  // Each Sentinel client learns of a new master by itself: the command one
  // at its next command, the pub/sub one only from the Sentinels' events or
  // its scan. When one of them moves, a PING through the other makes it
  // look again at once (its master connection is down, so it asks the
  // Sentinels), instead of up to `scanInterval` later.
  const nudge = (sentinel: RedisSentinel) => {
    sentinel.sendCommand(false, ["PING"]).catch(() => undefined);
  };
  const master = new SentinelMaster(nodes, masterName, credentials, log, () => {
    nudge(command);
    nudge(pubsub);
  });
  // The message bus subscribes on a connection of its own that follows the master with `master`.
  const subscriber = new MasterSubscriber(credentials, log);
  master.follow((address, moved) => subscriber.moveTo(address, moved));
  const known = command.getMasterNode();
  if (known === undefined) throw new Error(`the Sentinels name no master for "${masterName}"`);
  master.moveTo(known);
  command.on("topology-change", (event: TopologyChange) => {
    if (event.type !== "MASTER_CHANGE") return;
    nudge(pubsub);
    if (event.node !== undefined) master.moveTo(event.node);
  });
  pubsub.on("topology-change", (event: TopologyChange) => {
    if (event.type === "MASTER_CHANGE") nudge(command);
  });

  const probe = healthProbe(() => run(["PING"]));
  const marks = new ConnectionMarks();

  return {
    mode: "sentinel",
    send,
    // The slow path through node-redis's Sentinel client names no connection.
    connectionMark: () => marks.of(master.ready),
    pubsub: {
      publishCommand: "PUBLISH",
      publish: (channel, json) => send(["PUBLISH", channel, json]),
      subscribe: (channel, listener) => subscriber.subscribe(channel, listener),
      unsubscribe: (channel, listener) => subscriber.unsubscribe(channel, listener),
      isOpen: () => subscriber.isOpen(),
      onResubscribed: (listener) => subscriber.onResubscribed(() => listener(undefined)),
    },
    watched: [
      ["command", command],
      ["pubsub", pubsub],
    ],
    sessionClient: command,
    adapter: (prefix) => createAdapter(pubsub, pubsub, { key: prefix }),
    hasReplicas: async () => connectedReplicas(await send<string>(["INFO", "replication"])) > 0,
    isReady: () => probe.healthy(),
    close: async () => {
      probe.stop();
      subscriber.close();
      master.close();
      for (const sentinel of [pubsub, command]) {
        try {
          await withDeadline(sentinel.close(), 3000);
        } catch (error) {
          if (!isTransientRedisError(error)) throw error;
          await sentinel.destroy();
        }
      }
    },
  };
}
