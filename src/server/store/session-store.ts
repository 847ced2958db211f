import { randomBytes } from "node:crypto";
import { RedisStore } from "connect-redis";
import type { SessionData, Store } from "express-session";
import type { Keys } from "./keys.ts";
import type { RedisConnections } from "./redis-connection.ts";

/**
 * Login sessions in Redis: the express-session store (connect-redis) and the
 * few reads the rest of the instance needs, so that nothing outside `store/`
 * sends a Redis command.
 */
export class SessionStore {
  /** The express-session store; sessions expire after `ttlSeconds` idle. */
  readonly store: Store;
  private readonly redisStore: RedisStore;

  constructor(
    private readonly redis: RedisConnections,
    private readonly keys: Keys,
    ttlSeconds: number,
  ) {
    this.redisStore = new RedisStore({
      client: redis.sessionClient,
      prefix: keys.sessionPrefix,
      ttl: ttlSeconds,
    });
    this.store = this.redisStore;
  }

  /** The session's data, or undefined when there is none (expired, destroyed, never made). */
  async read(sessionId: string): Promise<SessionData | undefined> {
    const data = (await this.redisStore.get(sessionId)) as SessionData | null | undefined;
    return data ?? undefined;
  }

  /** Which of the sessions still exist. */
  async existing(sessionIds: readonly string[]): Promise<Set<string>> {
    const alive = await Promise.all(
      sessionIds.map((id) => {
        const key = this.keys.session(id);
        return this.redis.send<number>(["EXISTS", key], key);
      }),
    );
    return new Set(sessionIds.filter((_id, index) => alive[index] === 1));
  }

  /**
   * The secret that signs session cookies. Instances must agree on it; when
   * none is configured (development), the first instance to start stores a
   * random one in Redis and the others read it.
   */
  async sharedSecret(configured: string | undefined): Promise<string> {
    if (configured !== undefined) return configured;
    const key = this.keys.sessionSecret;
    await this.redis.send(["SET", key, randomBytes(32).toString("base64url"), "NX"], key);
    const secret = await this.redis.send<string | null>(["GET", key], key);
    if (secret === null) throw new Error("the session secret vanished from Redis");
    return secret;
  }
}
