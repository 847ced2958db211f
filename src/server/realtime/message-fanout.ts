import type { Logger } from "../logger.ts";
import type { Keys } from "../store/keys.ts";
import { parseMessage } from "../store/message-store.ts";
import type { RedisClient, RedisCluster } from "../store/redis-connection.ts";
import type { ChatServer } from "./types.ts";

/**
 * Delivers stored messages to this instance's sockets. The append script
 * publishes each message once, in offset order; an instance that has sockets
 * in the room receives it and emits it to them, so a message crosses Redis
 * once per instance whatever the number of receivers.
 *
 * `watch` is called before a socket reads a room's history and resolves once
 * this instance is sure to receive the room's messages, so that nothing falls
 * between the history and the live messages.
 */
export interface MessageFanout {
  watch(room: string): Promise<void>;
  unwatch(room: string): Promise<void>;
  close(): Promise<void>;
}

function deliver(io: ChatServer, log: Logger) {
  return (json: string) => {
    try {
      const message = parseMessage(json);
      io.local.to(message.room).emit("message", message);
    } catch (error) {
      log.error({ err: error }, "undeliverable message on a message channel");
    }
  };
}

/** One Redis: every message on one channel, which every instance subscribes to once. */
export async function sharedChannelFanout(
  subscriber: RedisClient,
  keys: Keys,
  io: ChatServer,
  log: Logger,
): Promise<MessageFanout> {
  const listener = deliver(io, log);
  await subscriber.subscribe(keys.messageChannel, listener);
  return {
    watch: async () => undefined,
    unwatch: async () => undefined,
    async close() {
      if (subscriber.isReady) await subscriber.unsubscribe(keys.messageChannel, listener);
    },
  };
}

/**
 * Redis Cluster: a sharded channel per room, in the room's slot (SPUBLISH from
 * the append script); an instance subscribes to the rooms it has sockets in.
 */
export function roomChannelFanout(
  subscriber: RedisCluster,
  keys: Keys,
  io: ChatServer,
  log: Logger,
): MessageFanout {
  const listener = deliver(io, log);
  const watchers = new Map<string, { count: number; ready: Promise<void> }>();
  return {
    watch(room) {
      const entry = watchers.get(room);
      if (entry !== undefined) {
        entry.count += 1;
        return entry.ready;
      }
      const ready = subscriber.sSubscribe(keys.roomChannel(room), listener);
      watchers.set(room, { count: 1, ready });
      return ready;
    },
    async unwatch(room) {
      const entry = watchers.get(room);
      if (entry === undefined) return;
      entry.count -= 1;
      if (entry.count > 0) return;
      watchers.delete(room);
      await entry.ready;
      // A socket may have joined again while the subscription was being made.
      if (!watchers.has(room)) await subscriber.sUnsubscribe(keys.roomChannel(room), listener);
    },
    async close() {
      const rooms = [...watchers.keys()];
      watchers.clear();
      if (rooms.length > 0 && subscriber.isOpen) {
        await subscriber.sUnsubscribe(rooms.map((room) => keys.roomChannel(room)));
      }
    },
  };
}
