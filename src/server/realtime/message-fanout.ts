import { BATCH_MAX, type Message } from "../../protocol/index.ts";
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

/**
 * The listener of a message channel. Messages that arrive together (one read
 * of the subscriber's connection: Redis had several queued for this
 * instance, as happens under load) go out together, one `messages` event per
 * room instead of one `message` event per message, so every socket, the
 * router and the browser handle one frame where they would handle many.
 * Nothing waits for company: the batch goes out in a microtask, once the
 * read's messages are parsed, so a message that arrives alone is emitted
 * as soon as before, as a `message`.
 */
function deliver(io: ChatServer, log: Logger): (json: string) => void {
  let batch: Map<string, Message[]> | undefined;
  const flush = () => {
    const rooms = batch;
    batch = undefined;
    for (const [room, messages] of rooms ?? []) {
      try {
        emitTogether(io, room, messages);
      } catch (error) {
        log.error({ err: error, room }, "delivering messages failed");
      }
    }
  };
  return (json) => {
    let message: Message;
    try {
      message = parseMessage(json);
    } catch (error) {
      log.error({ err: error }, "undeliverable message on a message channel");
      return;
    }
    if (batch === undefined) {
      batch = new Map();
      queueMicrotask(flush);
    }
    const waiting = batch.get(message.room);
    if (waiting === undefined) batch.set(message.room, [message]);
    else waiting.push(message);
  };
}

/** Emits a room's messages, in the order they came, in as few frames as `BATCH_MAX` allows. */
function emitTogether(io: ChatServer, room: string, messages: Message[]): void {
  const sockets = io.local.to(room);
  const [only] = messages;
  if (messages.length === 1 && only !== undefined) {
    sockets.emit("message", only);
    return;
  }
  for (let start = 0; start < messages.length; start += BATCH_MAX) {
    sockets.emit("messages", { room, messages: messages.slice(start, start + BATCH_MAX) });
  }
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
