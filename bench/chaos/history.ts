import { pino } from "pino";
import type { Message } from "../../src/protocol/index.ts";
import type { RedisTarget } from "../../src/server/config.ts";
import { connectRedis } from "../../src/server/store/connections/index.ts";
import { Keys } from "../../src/server/store/keys.ts";
import { entryMessage } from "../../src/server/store/message-store.ts";
import type { RedisConnections } from "../../src/server/store/redis-connection.ts";

/**
 * Reads what Redis stored: the ground truth the clients are checked against.
 * It connects the way an instance does (one Redis, Sentinel or Cluster), so
 * it follows a failover too.
 */
export class StoredHistory {
  private readonly keys: Keys;

  private constructor(
    private readonly redis: RedisConnections,
    prefix: string,
  ) {
    this.keys = new Keys(prefix);
  }

  static async connect(target: RedisTarget | string, prefix = "sb"): Promise<StoredHistory> {
    const resolved: RedisTarget =
      typeof target === "string" ? { mode: "single", url: target } : target;
    const redis = await connectRedis(resolved, pino({ level: "silent" }));
    return new StoredHistory(redis, prefix);
  }

  /** The latest offset of each room. */
  async latest(rooms: readonly string[]): Promise<Map<string, number>> {
    // One GET per room: on a Cluster the rooms' counters live in different slots.
    const values = await Promise.all(
      rooms.map((room) => {
        const seq = this.keys.room(room).seq;
        return this.redis.send<string | null>(["GET", seq], seq);
      }),
    );
    return new Map(rooms.map((room, i) => [room, Number(values[i] ?? 0)]));
  }

  /** Every message kept for the room, oldest first. */
  async all(room: string): Promise<Message[]> {
    const log = this.keys.room(room).log;
    const entries = await this.redis.send<[string, string[]][]>(["XRANGE", log, "-", "+"], log);
    return entries.map(entryMessage);
  }

  async close(): Promise<void> {
    await this.redis.close();
  }
}
