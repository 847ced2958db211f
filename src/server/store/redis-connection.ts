import { createClient } from "redis";
import type { Logger } from "../logger.ts";
import type { SendCommand } from "./lua-script.ts";

export type RedisClient = ReturnType<typeof createClient>;

/**
 * The connections an instance holds. They are separate so that they don't
 * block each other: a subscriber can run no other command, and the command
 * connection refuses work at once while Redis is down (no offline queue), so
 * that a chat message fails fast with `unavailable` instead of hanging.
 */
export interface RedisConnections {
  /** Commands; fails fast while Redis is unreachable. */
  command: RedisClient;
  /** Subscriber for the message channel and the Socket.IO adapter. */
  subscriber: RedisClient;
  /** Publisher of the Socket.IO adapter; queues while Redis is down. */
  adapterPublisher: RedisClient;
  send: SendCommand;
  /** True while the command and subscriber connections are up (and resubscribed). */
  isReady(): boolean;
  close(): Promise<void>;
}

/** Reconnect quickly at first, then every 2 s at most, with jitter, forever. */
function reconnectStrategy(retries: number): number {
  return Math.min(50 * 2 ** retries, 2000) + Math.floor(Math.random() * 100);
}

export async function connectRedis(url: string, log: Logger): Promise<RedisConnections> {
  const make = (name: string, failFast: boolean): RedisClient => {
    const client = createClient({
      url,
      name: `switchboard-${name}`,
      disableOfflineQueue: failFast,
      socket: { reconnectStrategy, connectTimeout: 5000 },
    });
    let lastLogged = 0;
    client.on("error", (error: Error) => {
      // A dead Redis raises an error per reconnect attempt; one line per 5 s is enough.
      const now = Date.now();
      if (now - lastLogged < 5000) return;
      lastLogged = now;
      log.warn({ connection: name, err: error.message }, "redis connection error");
    });
    client.on("ready", () => log.info({ connection: name }, "redis connection ready"));
    return client;
  };

  const command = make("command", true);
  const subscriber = make("subscriber", false);
  const adapterPublisher = make("adapter-pub", false);
  await Promise.all([command.connect(), subscriber.connect(), adapterPublisher.connect()]);

  return {
    command,
    subscriber,
    adapterPublisher,
    send: <T>(args: string[]) => command.sendCommand(args) as Promise<T>,
    isReady: () => command.isReady && subscriber.isReady,
    async close() {
      for (const client of [subscriber, adapterPublisher, command]) {
        try {
          if (client.isOpen) await client.close();
        } catch {
          client.destroy();
        }
      }
    },
  };
}
