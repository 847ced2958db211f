import type { Logger } from "../logger.ts";
import type { Keys } from "../store/keys.ts";
import { parseMessage } from "../store/message-store.ts";
import type { RedisClient } from "../store/redis-connection.ts";
import type { ChatServer } from "./types.ts";

/**
 * Delivers stored messages to this instance's sockets. The append script
 * publishes each message on one channel in offset order; every instance
 * subscribes and emits to its own sockets in the room, so a message crosses
 * Redis once per instance whatever the number of receivers.
 */
export async function startMessageFanout(
  subscriber: RedisClient,
  keys: Keys,
  io: ChatServer,
  log: Logger,
): Promise<() => Promise<void>> {
  const channel = keys.messageChannel;
  const listener = (json: string) => {
    try {
      const message = parseMessage(json);
      io.local.to(message.room).emit("message", message);
    } catch (error) {
      log.error({ err: error }, "undeliverable message on the message channel");
    }
  };
  await subscriber.subscribe(channel, listener);
  return async () => {
    if (subscriber.isReady) await subscriber.unsubscribe(channel, listener);
  };
}
