import { after, before } from "node:test";
import { startInstances, type TestInstance } from "./instance.ts";
import { TestRedis } from "./redis-server.ts";

/** A Redis of the test file's own and two instances on it, as `twoInstances` gives them. */
export interface InstancePair {
  readonly redis: TestRedis;
  readonly a: TestInstance;
  readonly b: TestInstance;
  /** The environment both instances got (REDIS_URL and SESSION_SECRET included). */
  readonly env: Record<string, string>;
}

export const TEST_SESSION_SECRET = "test-secret-0123456789abcdef";

/**
 * Two instances on a Redis of their own, started in the file's `before` and
 * stopped in its `after`, whatever happened in between (also when one of
 * them fails to start). `env` goes to both; `each` adds to one of them
 * (`INSTANCE_ID` defaults to `<ids[i]>`).
 */
export function twoInstances(
  env: Record<string, string> = {},
  options: { ids?: [string, string]; each?: [Record<string, string>, Record<string, string>] } = {},
): InstancePair {
  let redis: TestRedis | undefined;
  let pair: TestInstance[] = [];
  let shared: Record<string, string> = {};
  const ids = options.ids ?? ["a", "b"];

  before(async () => {
    redis = await TestRedis.start({ persistence: false });
    shared = { REDIS_URL: redis.url, SESSION_SECRET: TEST_SESSION_SECRET, ...env };
    pair = await startInstances(
      ids.map((id, i) => ({ ...shared, INSTANCE_ID: id, ...options.each?.[i] })),
    );
  });

  after(async () => {
    await Promise.all(pair.map((instance) => instance.stop("SIGKILL")));
    await redis?.close();
  });

  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error("twoInstances: used before its before() hook ran");
    return value;
  };
  return {
    get redis() {
      return started(redis);
    },
    get a() {
      return started(pair[0]);
    },
    get b() {
      return started(pair[1]);
    },
    get env() {
      return shared;
    },
  };
}
