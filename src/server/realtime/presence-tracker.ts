import type { Logger } from "../logger.ts";
import type { MemberPage, PresenceStore } from "../store/presence-store.ts";
import type { ChatServer } from "./types.ts";

/**
 * Counts this instance's sockets per room and user, mirrors that into Redis
 * (an entry per user and instance), and announces joins and leaves to every
 * instance. A heartbeat keeps this instance's entries alive and reaps those of
 * instances that stopped beating.
 */
export class PresenceTracker {
  private readonly local = new Map<string, Map<string, number>>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: PresenceStore,
    private readonly io: ChatServer,
    private readonly log: Logger,
    private readonly heartbeatMs: number,
  ) {}

  async enter(room: string, user: string): Promise<void> {
    let users = this.local.get(room);
    if (users === undefined) {
      users = new Map();
      this.local.set(room, users);
    }
    const count = (users.get(user) ?? 0) + 1;
    users.set(user, count);
    if (count === 1 && (await this.store.add(room, user))) this.announce(room, user, "join");
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
    if (await this.store.remove(room, user)) this.announce(room, user, "leave");
  }

  /** A page of the room's members in name order. */
  page(room: string, after: string | undefined, limit: number): Promise<MemberPage> {
    return this.store.page(room, after, limit);
  }

  start(): void {
    this.timer = setInterval(() => {
      this.beat().catch((error: unknown) =>
        this.log.warn({ err: error }, "presence heartbeat failed"),
      );
    }, this.heartbeatMs);
    this.timer.unref();
  }

  /** Refreshes this instance's entries and reaps expired ones in the rooms it serves. */
  async beat(): Promise<void> {
    await Promise.all(
      [...this.local].map(async ([room, users]) => {
        await this.store.refresh(room, users.keys());
        for (const user of await this.store.reap(room)) this.announce(room, user, "leave");
      }),
    );
  }

  /** Removes every entry of this instance (on shutdown), announcing the leaves. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    const entries = [...this.local].flatMap(([room, users]) =>
      [...users.keys()].map((user) => [room, user] as const),
    );
    this.local.clear();
    await Promise.all(
      entries.map(async ([room, user]) => {
        if (await this.store.remove(room, user)) this.announce(room, user, "leave");
      }),
    );
  }

  private announce(room: string, user: string, state: "join" | "leave"): void {
    this.io.to(room).emit("presence", { room, user, state });
  }
}
