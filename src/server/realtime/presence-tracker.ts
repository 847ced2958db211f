import type { PresenceBatch } from "../../protocol/index.ts";
import type { Logger } from "../logger.ts";
import type { MemberPage, PresenceStore } from "../store/presence-store.ts";
import type { ChatServer } from "./types.ts";

export interface PresenceOptions {
  /** Interval of the heartbeat that keeps this instance's entries alive (ms). */
  heartbeatMs: number;
  /** Joins and leaves of a room are announced together once per window (ms). */
  windowMs: number;
  /** Rooms with more members announce their count alone, and relay no typing. */
  countOnlyAbove: number;
  /** Such rooms announce their count at most once per this interval (ms) per instance. */
  countIntervalMs: number;
}

/** What a room's next announcement holds. */
interface Pending {
  /** Users whose first entry this instance added (their join is to be announced). */
  joined: Set<string>;
  /** Users with no socket here any more; their entry is removed when the window ends. */
  leaving: Set<string>;
  /** Users whose entries expired (reaped): gone from Redis already. */
  gone: Set<string>;
  /** A count-only room changed since its count was last announced. */
  dirty: boolean;
}

/**
 * The Socket.IO room of the sockets of `room` that speak protocol 1 and get
 * one `presence` event per join or leave. (Room names cannot hold a colon.)
 */
export function legacyPresenceRoom(room: string): string {
  return `presence-v1:${room}`;
}

/**
 * Counts this instance's sockets per room and user and mirrors that into
 * Redis (an entry per user and instance). Joins and leaves are announced per
 * room once per window, as one `presence:batch` that every instance hands to
 * its own sockets: a wave of reconnections costs each member a frame per
 * instance and window, not one per returning user. A leave takes effect when
 * the window ends, so a user who comes back within it (a reconnect, here or
 * on another instance) is never announced. A heartbeat keeps this instance's
 * entries alive and reaps those of instances that stopped beating.
 */
export class PresenceTracker {
  private readonly local = new Map<string, Map<string, number>>();
  private readonly pending = new Map<string, Pending>();
  /** The size of each room this instance serves, as last read from Redis. */
  private readonly sizes = new Map<string, number>();
  /** When this instance last announced each count-only room's count. */
  private readonly countSentAt = new Map<string, number>();
  private heartbeat: NodeJS.Timeout | undefined;
  private window: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: PresenceStore,
    private readonly io: ChatServer,
    private readonly log: Logger,
    private readonly options: PresenceOptions,
  ) {
    // Every instance's batches reach every instance, which gives them to its own sockets.
    io.on("presence:batch", (batch) => this.deliver(batch));
  }

  async enter(room: string, user: string): Promise<void> {
    let users = this.local.get(room);
    if (users === undefined) {
      users = new Map();
      this.local.set(room, users);
    }
    const count = (users.get(user) ?? 0) + 1;
    users.set(user, count);
    if (count > 1) return;
    // Back within the window: the entry was never removed, and nobody hears of it.
    if (this.pending.get(room)?.leaving.delete(user) === true) return;
    if (await this.store.add(room, user)) this.pendingOf(room).joined.add(user);
  }

  async exit(room: string, user: string): Promise<void> {
    const users = this.local.get(room);
    const count = users?.get(user);
    if (users === undefined || count === undefined) return;
    if (count > 1) {
      users.set(user, count - 1);
      return;
    }
    users.delete(user);
    if (users.size === 0) this.local.delete(room);
    this.pendingOf(room).leaving.add(user);
  }

  /** A page of the room's members in name order. */
  async page(room: string, after: string | undefined, limit: number): Promise<MemberPage> {
    const page = await this.store.page(room, after, limit);
    this.sizes.set(room, page.count);
    return page;
  }

  /** True when the room is too big for names and typing: only its count is announced. */
  countOnly(room: string): boolean {
    return (this.sizes.get(room) ?? 0) > this.options.countOnlyAbove;
  }

  start(): void {
    this.heartbeat = setInterval(() => {
      this.beat().catch((error: unknown) =>
        this.log.warn({ err: error }, "presence heartbeat failed"),
      );
    }, this.options.heartbeatMs);
    this.heartbeat.unref();
  }

  /** Refreshes this instance's entries and reaps expired ones in the rooms it serves. */
  async beat(): Promise<void> {
    for (const room of this.sizes.keys()) {
      if (this.local.has(room) || this.pending.has(room)) continue;
      this.sizes.delete(room);
      this.countSentAt.delete(room);
    }
    await Promise.all(
      [...this.local].map(async ([room, users]) => {
        await this.store.refresh(room, users.keys());
        const reaped = await this.store.reap(room);
        if (reaped.length > 0) {
          const gone = this.pendingOf(room).gone;
          for (const user of reaped) gone.add(user);
        }
        this.sizes.set(room, await this.store.count(room));
      }),
    );
  }

  /** Announces what is pending, then removes every entry of this instance (on shutdown). */
  async stop(): Promise<void> {
    clearInterval(this.heartbeat);
    for (const [room, users] of this.local) {
      const pending = this.pendingOf(room);
      for (const user of users.keys()) pending.leaving.add(user);
    }
    this.local.clear();
    await this.flush();
  }

  private pendingOf(room: string): Pending {
    let pending = this.pending.get(room);
    if (pending === undefined) {
      pending = { joined: new Set(), leaving: new Set(), gone: new Set(), dirty: false };
      this.pending.set(room, pending);
    }
    this.window ??= setTimeout(() => {
      this.flush().catch((error: unknown) =>
        this.log.warn({ err: error }, "announcing presence failed"),
      );
    }, this.options.windowMs);
    return pending;
  }

  /** Ends the window: removes the entries of users who did not come back, and announces. */
  private async flush(): Promise<void> {
    clearTimeout(this.window);
    this.window = undefined;
    const rooms = [...this.pending];
    this.pending.clear();
    await Promise.all(
      rooms.map(async ([room, { joined, leaving, gone, dirty }]) => {
        const removed = await Promise.all(
          [...leaving].map(async (user) => ((await this.store.remove(room, user)) ? user : "")),
        );
        const left: string[] = [];
        for (const user of [...removed, ...gone]) {
          // Joined and left within one window: nobody needs to hear of it.
          if (user !== "" && !joined.delete(user)) left.push(user);
        }
        if (joined.size === 0 && left.length === 0 && !dirty) return;
        const count = await this.store.count(room);
        this.sizes.set(room, count);
        let batch: PresenceBatch = { room, count, joined: [...joined], left };
        if (count > this.options.countOnlyAbove) {
          // A join wave in a big room would otherwise send every member a count every window.
          const now = Date.now();
          if (now - (this.countSentAt.get(room) ?? 0) < this.options.countIntervalMs) {
            this.pendingOf(room).dirty = true;
            return;
          }
          this.countSentAt.set(room, now);
          batch = { room, count };
        }
        this.io.serverSideEmit("presence:batch", batch);
        this.deliver(batch);
      }),
    );
  }

  /** Gives a batch (of any instance) to this instance's sockets in the room. */
  private deliver(batch: PresenceBatch): void {
    const { room } = batch;
    if (this.local.has(room)) this.sizes.set(room, batch.count);
    const legacy = legacyPresenceRoom(room);
    this.io.local.to(room).except(legacy).emit("presence:batch", batch);
    // Protocol 1 clients get a frame per user, as before, and nothing in count-only rooms.
    if ((this.io.of("/").adapter.rooms.get(legacy)?.size ?? 0) === 0) return;
    for (const user of batch.left ?? []) {
      this.io.local.to(legacy).emit("presence", { room, user, state: "leave" });
    }
    for (const user of batch.joined ?? []) {
      this.io.local.to(legacy).emit("presence", { room, user, state: "join" });
    }
  }
}
