import { createAdapter } from "@socket.io/redis-adapter";
import { createClient } from "redis";
import type { Logger } from "../../logger.ts";
import type { RedisConnections } from "../redis-connection.ts";
import { isTransientRedisError, storageUnavailable } from "../redis-errors.ts";
import {
  ConnectionMarks,
  closeAll,
  connectedReplicas,
  logErrors,
  reconnectStrategy,
} from "./shared.ts";

type RedisClient = ReturnType<typeof createClient>;

/**
 * One Redis. Three connections, so that they don't block each other: a
 * subscriber can run no other command, and the command connection refuses
 * work at once while Redis is down (no offline queue).
 */
export async function connectSingle(url: string, log: Logger): Promise<RedisConnections> {
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
  // The adapter's publisher queues while Redis is down: presence and typing may arrive late.
  const adapterPublisher = make("adapter-pub", false);
  await Promise.all([command.connect(), subscriber.connect(), adapterPublisher.connect()]);
  // After a reconnect node-redis subscribes again before it says "ready", so
  // every "ready" from now on means the subscriptions are held again.
  const resubscribed: ((channels: readonly string[] | undefined) => void)[] = [];
  subscriber.on("ready", () => {
    for (const listener of resubscribed) listener(undefined);
  });

  const send = async <T>(args: string[]): Promise<T> => {
    try {
      return (await command.sendCommand(args)) as T;
    } catch (error) {
      throw isTransientRedisError(error) ? storageUnavailable(error) : error;
    }
  };
  const marks = new ConnectionMarks();
  return {
    mode: "single",
    send,
    connectionMark: () => marks.of(command),
    pubsub: {
      publishCommand: "PUBLISH",
      publish: (channel, json) => send(["PUBLISH", channel, json]),
      subscribe: (channel, listener) => subscriber.subscribe(channel, listener),
      unsubscribe: (channel, listener) => subscriber.unsubscribe(channel, listener),
      isOpen: () => subscriber.isReady,
      onResubscribed: (listener) => {
        resubscribed.push(listener);
      },
    },
    watched: [
      ["command", command],
      ["subscriber", subscriber],
      ["adapter-pub", adapterPublisher],
    ],
    sessionClient: command,
    adapter: (prefix) => createAdapter(adapterPublisher, subscriber, { key: prefix }),
    hasReplicas: async () => connectedReplicas(await send<string>(["INFO", "replication"])) > 0,
    isReady: () => command.isReady && subscriber.isReady,
    close: () => closeAll([subscriber, adapterPublisher, command]),
  };
}
