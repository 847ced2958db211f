import type { Message } from "../../../protocol/index.ts";

/**
 * Carries stored messages to the instances that have sockets in their room.
 * One implementation per transport, picked once when an instance starts
 * (`createMessageBus`): Redis pub/sub with a channel per room (PUBLISH and
 * SUBSCRIBE on one Redis or a Sentinel-managed master, SPUBLISH and
 * SSUBSCRIBE on a Redis Cluster), or an in-process bus for tests below
 * process level.
 */
export interface MessageBus {
  /**
   * Where the append script may publish a new message itself, in the same
   * atomic step as storing it; `undefined` when the bus cannot be reached
   * from Redis (in-process) or when publishing must wait for replication.
   */
  scriptTarget(room: string): PublishTarget | undefined;
  /** Sends a stored message to every instance watching its room. */
  publish(message: Message): Promise<void>;
  /**
   * Counts one more reason to receive the room's messages; resolves once
   * they are sure to arrive, so that nothing falls between a history read
   * and the live messages. Every `watch` needs one `unwatch`.
   */
  watch(room: string): Promise<void>;
  unwatch(room: string): Promise<void>;
  close(): Promise<void>;
}

/** A channel and the command that publishes on it, as the append script takes them. */
export interface PublishTarget {
  command: "PUBLISH" | "SPUBLISH";
  channel: string;
}

/** Receives each message of a watched room once per instance. */
export type MessageListener = (message: Message) => void;

/**
 * Told of a watched room whose subscription was made again (the subscriber's
 * connection reconnected or moved to a new master): what was published on
 * the room's channel in between never arrived.
 */
export type ResubscribeListener = (room: string) => void;

/**
 * Messages on the bus were encoded by the append script (or by `publish`
 * from a stored message), so their shape is known.
 */
export function parseMessage(json: string): Message {
  return JSON.parse(json) as Message;
}

/**
 * Reference counts of watched rooms, shared by the implementations: the
 * first watch of a room subscribes, the last unwatch unsubscribes, and a
 * watch that comes while an unsubscribe runs subscribes again.
 */
export class RoomWatches {
  private readonly rooms = new Map<string, { count: number; ready: Promise<void> }>();

  constructor(
    private readonly subscribe: (room: string) => Promise<void>,
    private readonly unsubscribe: (room: string) => Promise<void>,
  ) {}

  watch(room: string): Promise<void> {
    const entry = this.rooms.get(room);
    if (entry !== undefined) {
      entry.count += 1;
      return entry.ready;
    }
    const ready = this.subscribe(room);
    const created = { count: 1, ready };
    this.rooms.set(room, created);
    // A failed subscription is forgotten, so that the next watch tries again.
    ready.catch(() => {
      if (this.rooms.get(room) === created) this.rooms.delete(room);
    });
    return ready;
  }

  async unwatch(room: string): Promise<void> {
    const entry = this.rooms.get(room);
    if (entry === undefined) return;
    entry.count -= 1;
    if (entry.count > 0) return;
    this.rooms.delete(room);
    try {
      await entry.ready;
    } catch {
      return;
    }
    // A socket may have joined again while the subscription was being made.
    if (!this.rooms.has(room)) await this.unsubscribe(room);
  }

  /** The rooms watched now. */
  get watched(): string[] {
    return [...this.rooms.keys()];
  }

  has(room: string): boolean {
    return this.rooms.has(room);
  }

  clear(): string[] {
    const rooms = this.watched;
    this.rooms.clear();
    return rooms;
  }
}
