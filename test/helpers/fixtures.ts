import { after, before } from "node:test";
import { createClient } from "redis";
import { startInstances, type TestInstance } from "./instance.ts";
import { TestRedis } from "./redis-server.ts";

export const TEST_SESSION_SECRET = "test-secret-0123456789abcdef";

/** Something a test opened that the fixture closes in its `after`. */
type Closable = { disconnect(): unknown } | { close(): unknown };

/** A Redis of the test's own, instances on it, and what the test opened, as `instancesOnRedis` gives them. */
export interface RedisFixture {
  readonly redis: TestRedis;
  readonly instances: readonly TestInstance[];
  /** The first instance. */
  readonly a: TestInstance;
  /** The second instance (when there are two or more). */
  readonly b: TestInstance;
  /** The environment every instance got (REDIS_URL and SESSION_SECRET included). */
  readonly env: Record<string, string>;
  /** A command connection to the Redis, for tests that look at the keys (`db: true`). */
  readonly db: ReturnType<typeof createClient>;
  /**
   * Settles when everything is started. Node 20 runs a file's top-level
   * `before` hooks at the same time, not one after the other: a file's own
   * `before` awaits this first.
   */
  readonly ready: Promise<void>;
  /** Closes `thing` (a socket, a client) in the fixture's `after`, before the instances stop. */
  track<T extends Closable>(thing: T): T;
}

export interface FixtureOptions {
  /** How many instances. @default 2 */
  count?: number;
  /** `INSTANCE_ID` of each, in order. @default a, b, c… */
  ids?: string[];
  /** What one instance gets on top of `env`, by position. */
  each?: Record<string, string>[];
  /** Also open `db`, a node-redis connection to the same Redis. */
  db?: boolean;
}

/**
 * Instances on a Redis of their own, started in the test file's (or the
 * suite's) `before` and stopped in its `after`, whatever happened in between
 * (also when one of them fails to start). Sockets and clients handed to
 * `track` are closed first.
 */
export function instancesOnRedis(
  env: Record<string, string> = {},
  options: FixtureOptions = {},
): RedisFixture {
  let redis: TestRedis | undefined;
  let instances: TestInstance[] = [];
  let shared: Record<string, string> = {};
  let db: ReturnType<typeof createClient> | undefined;
  const opened: Closable[] = [];
  let settle: { resolve(): void; reject(error: unknown): void } | undefined;
  const ready = new Promise<void>((resolve, reject) => {
    settle = { resolve, reject };
  });
  // Only a file that awaits `ready` cares; the hook itself reports a failure.
  ready.catch(() => undefined);
  const count = options.count ?? 2;
  const ids =
    options.ids ?? Array.from({ length: count }, (_unused, i) => String.fromCharCode(97 + i));

  before(async () => {
    try {
      redis = await TestRedis.start({ persistence: false });
      shared = { REDIS_URL: redis.url, SESSION_SECRET: TEST_SESSION_SECRET, ...env };
      instances = await startInstances(
        ids.map((id, i) => ({ ...shared, INSTANCE_ID: id, ...options.each?.[i] })),
      );
      if (options.db === true) {
        db = createClient({ url: redis.url });
        await db.connect();
      }
      settle?.resolve();
    } catch (error) {
      settle?.reject(error);
      throw error;
    }
  });

  after(async () => {
    for (const thing of opened.splice(0)) {
      if ("disconnect" in thing) thing.disconnect();
      else thing.close();
    }
    await db?.close().catch(() => undefined);
    await Promise.all(instances.map((instance) => instance.stop("SIGKILL")));
    await redis?.close();
  });

  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error("instancesOnRedis: used before its before() hook ran");
    return value;
  };
  return {
    get redis() {
      return started(redis);
    },
    get instances() {
      return instances;
    },
    get a() {
      return started(instances[0]);
    },
    get b() {
      return started(instances[1]);
    },
    get env() {
      return shared;
    },
    get db() {
      return started(db);
    },
    ready,
    track(thing) {
      opened.push(thing);
      return thing;
    },
  };
}

/** Two instances on a Redis of their own (`instancesOnRedis` with two). */
export function twoInstances(
  env: Record<string, string> = {},
  options: {
    ids?: [string, string];
    each?: [Record<string, string>, Record<string, string>];
    db?: boolean;
  } = {},
): RedisFixture {
  return instancesOnRedis(env, { ...options, count: 2 });
}
