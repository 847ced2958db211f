import type { Keys } from "./keys.ts";
import { LuaScript, type SendCommand } from "./lua-script.ts";

const tokenBucket = new LuaScript("token-bucket");
const fixedWindow = new LuaScript("fixed-window");

/** Whether an action may go ahead, and if not, when to try again. */
export interface Verdict {
  allowed: boolean;
  /** Milliseconds until it may be allowed; 0 when allowed. */
  retryInMs: number;
}

/** Limits shared by all instances, kept in Redis. */
export class RateLimitStore {
  constructor(
    private readonly send: SendCommand,
    private readonly keys: Keys,
  ) {}

  /** One message of a user: a burst, then a steady rate. */
  async takeMessageToken(user: string, perSecond: number, burst: number): Promise<Verdict> {
    const key = this.keys.messageBucket(user);
    const [allowed, wait] = await tokenBucket.run<[number, number]>(
      this.send,
      [key],
      [perSecond, burst],
    );
    return { allowed: allowed === 1, retryInMs: wait };
  }

  /** Counts one login or register attempt from an address; `limit` per window. */
  async countAuthAttempt(ip: string, limit: number, windowMs: number): Promise<Verdict> {
    const key = this.keys.authAttempts(ip);
    const [count, ttl] = await fixedWindow.run<[number, number]>(this.send, [key], [windowMs]);
    return { allowed: count <= limit, retryInMs: count <= limit ? 0 : Math.max(ttl, 0) };
  }

  /** Milliseconds left on a username's lock after repeated failures (0 when none). */
  async authLockRemaining(username: string): Promise<number> {
    const key = this.keys.authLock(username);
    const ttl = await this.send<number>(["PTTL", key], key);
    return Math.max(ttl, 0);
  }

  /**
   * Records a failed attempt on a username. From the `threshold`-th failure
   * in 15 minutes on, the name is locked for 1 s, 2 s, 4 s... up to 5 minutes.
   */
  async recordAuthFailure(username: string, threshold: number): Promise<void> {
    const failures = this.keys.authFailures(username);
    const [count] = await fixedWindow.run<[number, number]>(this.send, [failures], [15 * 60_000]);
    if (count < threshold) return;
    const lockMs = Math.min(300_000, 1000 * 2 ** (count - threshold));
    const lock = this.keys.authLock(username);
    await this.send(["SET", lock, "1", "PX", String(lockMs)], lock);
  }

  async clearAuthFailures(username: string): Promise<void> {
    const key = this.keys.authFailures(username);
    await this.send(["DEL", key], key);
  }
}
