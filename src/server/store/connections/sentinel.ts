import { createAdapter } from "@socket.io/redis-adapter";
import { createSentinel } from "redis";
import type { Logger } from "../../logger.ts";
import type { RedisConnections } from "../redis-connection.ts";
import { isTransientRedisError } from "../redis-errors.ts";
import {
  connectedReplicas,
  healthProbe,
  logErrors,
  reconnectStrategy,
  retrying,
  withDeadline,
} from "./shared.ts";

type RedisSentinel = ReturnType<typeof createSentinel>;

/**
 * How long one command may wait for the master. node-redis's Sentinel client
 * holds a command while the master is unreachable, asks the Sentinels again
 * and sends it to the master they name, so a command sent during a failover
 * runs once the replica is promoted; past this, the user is told
 * `unavailable` (and the client retries with the same clientId).
 */
const COMMAND_DEADLINE_MS = 2500;

/**
 * A master and its replicas behind Sentinels, through node-redis's Sentinel
 * client: it asks the Sentinels for the master, follows `+switch-master`
 * (and rediscovers when the master stops answering or says READONLY), and
 * moves its subscriptions to the new master. Two of them, so that commands
 * fail fast while the adapter's traffic may queue.
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
    sentinel.on(
      "topology-change",
      (event: { type: string; node?: { host: string; port: number } }) => {
        log.info(
          { connection: name, change: event.type, node: event.node },
          "redis topology change",
        );
      },
    );
    return sentinel;
  };

  const command = make("command", true);
  const pubsub = make("pubsub", false);
  await Promise.all([command.connect(), pubsub.connect()]);

  const run = <T>(args: string[]) =>
    withDeadline(command.sendCommand(false, args) as Promise<T>, COMMAND_DEADLINE_MS);
  const send = <T>(args: string[]): Promise<T> => retrying(() => run<T>(args), COMMAND_DEADLINE_MS);
  // node-redis types the Sentinel's unsubscribe listener as string-or-buffer; one wrapper per listener fits both calls.
  const wrappers = new Map<(json: string) => void, (message: string | Buffer) => void>();
  const asText = (listener: (json: string) => void) => {
    let wrapper = wrappers.get(listener);
    if (wrapper === undefined) {
      wrapper = (message) => listener(message.toString());
      wrappers.set(listener, wrapper);
    }
    return wrapper;
  };
  // One (un)subscribe at a time: node-redis's Sentinel pub/sub destroys its connection when an
  // unsubscribe leaves it with no channel, and an unsubscribe running beside it then fails.
  let chain: Promise<unknown> = Promise.resolve();
  const serial = <T>(work: () => Promise<T>): Promise<T> => {
    const next = chain.then(work);
    chain = next.catch(() => undefined);
    return next;
  };
  const probe = healthProbe(() => run(["PING"]));

  return {
    mode: "sentinel",
    send,
    pubsub: {
      publishCommand: "PUBLISH",
      publish: (channel, json) => send(["PUBLISH", channel, json]),
      subscribe: (channel, listener) => serial(() => pubsub.subscribe(channel, asText(listener))),
      unsubscribe: (channel, listener) =>
        serial(() => pubsub.unsubscribe(channel, asText(listener))),
      isOpen: () => pubsub.isOpen,
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
