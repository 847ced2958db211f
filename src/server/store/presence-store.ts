import type { Keys } from "./keys.ts";
import { LuaScript, type SendCommand } from "./lua-script.ts";

const addScript = new LuaScript("presence-add");
const removeScript = new LuaScript("presence-remove");
const reapScript = new LuaScript("presence-reap");
const refreshScript = new LuaScript("presence-refresh");
const pageScript = new LuaScript("presence-page");

/** A page of a room's members in name order, and how many there are. */
export interface MemberPage {
  count: number;
  members: string[];
  /** True when more names follow the page's last. */
  more: boolean;
}

/** Entries removed per reap call, so a huge dead instance never blocks Redis for long. */
const REAP_BATCH = 500;

/**
 * Who is in which room, across instances. Each instance owns entries
 * `user|instance` that it refreshes; entries of an instance that stopped
 * refreshing (it crashed) expire and are reaped, so its users leave by
 * themselves.
 */
export class PresenceStore {
  constructor(
    private readonly send: SendCommand,
    private readonly keys: Keys,
    private readonly instanceId: string,
    private readonly ttlMs: number,
  ) {}

  private entry(user: string): string {
    return `${user}|${this.instanceId}`;
  }

  /** Returns true when the user was in no instance's list of the room before. */
  async add(room: string, user: string): Promise<boolean> {
    const k = this.keys.room(room);
    const joined = await addScript.run<number>(
      this.send,
      [k.presence, k.members, k.roster],
      [this.entry(user), Date.now() + this.ttlMs, user],
    );
    return joined === 1;
  }

  /** Returns true when the user is now in no instance's list of the room. */
  async remove(room: string, user: string): Promise<boolean> {
    const k = this.keys.room(room);
    const left = await removeScript.run<number>(
      this.send,
      [k.presence, k.members, k.roster],
      [this.entry(user), user],
    );
    return left === 1;
  }

  /** Pushes the expiry of this instance's entries forward (one command per room). */
  async refresh(room: string, users: Iterable<string>): Promise<void> {
    const k = this.keys.room(room);
    const entries = [...users].map((user) => this.entry(user));
    if (entries.length === 0) return;
    await refreshScript.run(this.send, [k.presence], [Date.now() + this.ttlMs, ...entries]);
  }

  /** Removes expired entries; returns the users who thereby left the room. */
  async reap(room: string): Promise<string[]> {
    const k = this.keys.room(room);
    return reapScript.run<string[]>(
      this.send,
      [k.presence, k.members, k.roster],
      [Date.now(), REAP_BATCH],
    );
  }

  /** The members after `after` in name order (from the first without it), at most `limit`. */
  async page(room: string, after: string | undefined, limit: number): Promise<MemberPage> {
    const k = this.keys.room(room);
    const [count, more, ...members] = await pageScript.run<[number, number, ...string[]]>(
      this.send,
      [k.members, k.roster],
      [after ?? "", limit],
    );
    return { count, members, more: more === 1 };
  }

  /** How many users are in the room. */
  count(room: string): Promise<number> {
    const k = this.keys.room(room);
    return this.send<number>(["HLEN", k.members], k.members);
  }
}
