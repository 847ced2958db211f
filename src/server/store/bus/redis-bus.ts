import type { Logger } from "../../logger.ts";
import type { Keys } from "../keys.ts";
import {
  type MessageBus,
  type MessageListener,
  type PublishTarget,
  parseMessage,
  type ResubscribeListener,
  RoomWatches,
} from "./message-bus.ts";

/** The pub/sub commands of one Redis mode, provided by its connection. */
export interface PubSubCommands {
  /** PUBLISH on one Redis or a Sentinel-managed master; SPUBLISH on a Redis Cluster. */
  readonly publishCommand: PublishTarget["command"];
  publish(channel: string, json: string): Promise<unknown>;
  subscribe(channel: string, listener: (json: string) => void): Promise<unknown>;
  unsubscribe(channel: string, listener: (json: string) => void): Promise<unknown>;
  /** True while the subscriber's connection works (an unsubscribe on a dead one would wait). */
  readonly isOpen: () => boolean;
  /**
   * Calls `listener` each time subscriptions are held again after the
   * subscriber's connection was lost or moved: with the channels concerned,
   * or `undefined` for every channel. Called only once they are held, so a
   * history read that follows misses nothing.
   */
  onResubscribed(listener: (channels: readonly string[] | undefined) => void): void;
}

/**
 * Redis pub/sub with a channel per room. An instance subscribes to the rooms
 * it has sockets in, so its inbound traffic grows with its own rooms, not
 * with the whole deployment's. A message crosses Redis once per instance,
 * whatever the number of its receivers.
 */
export function redisMessageBus(
  pubsub: PubSubCommands,
  keys: Keys,
  listener: MessageListener,
  log: Logger,
  resubscribed: ResubscribeListener = () => undefined,
): MessageBus {
  // Every message from the Redis bus arrives here, whatever the topology.
  const receive = (json: string) => {
    try {
      listener(parseMessage(json));
    } catch (error) {
      log.error({ err: error }, "undeliverable message on a room channel");
    }
  };
  const watches = new RoomWatches(
    async (room) => {
      await pubsub.subscribe(keys.roomChannel(room), receive);
    },
    async (room) => {
      if (pubsub.isOpen()) await pubsub.unsubscribe(keys.roomChannel(room), receive);
    },
  );
  pubsub.onResubscribed((channels) => {
    const held = channels === undefined ? undefined : new Set(channels);
    for (const room of watches.watched) {
      if (held === undefined || held.has(keys.roomChannel(room))) resubscribed(room);
    }
  });
  return {
    scriptTarget: (room) => ({ command: pubsub.publishCommand, channel: keys.roomChannel(room) }),
    async publish(message) {
      await pubsub.publish(keys.roomChannel(message.room), JSON.stringify(message));
    },
    watch: (room) => watches.watch(room),
    unwatch: (room) => watches.unwatch(room),
    async close() {
      const rooms = watches.clear();
      if (!pubsub.isOpen()) return;
      await Promise.all(rooms.map((room) => pubsub.unsubscribe(keys.roomChannel(room), receive)));
    },
  };
}
