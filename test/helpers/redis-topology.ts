import { RedisClusterServer } from "../../src/cluster/redis/cluster.ts";
import { RedisSentinelServer } from "../../src/cluster/redis/sentinel.ts";
import { RedisServer } from "../../src/cluster/redis/server.ts";

export type RedisMode = "single" | "sentinel" | "cluster";

/** Every mode, or those named in SB_TEST_REDIS_MODES (comma-separated), for a quicker local run. */
export function redisModes(): RedisMode[] {
  const all: RedisMode[] = ["single", "sentinel", "cluster"];
  const wanted = process.env.SB_TEST_REDIS_MODES?.split(",").map((mode) => mode.trim());
  return wanted === undefined ? all : all.filter((mode) => wanted.includes(mode));
}

/** A real Redis topology of our own, and the environment that points an instance at it. */
export interface TestTopology {
  readonly mode: RedisMode;
  readonly env: Record<string, string>;
  /** The ports of the masters holding data (a Cluster's rooms spread over them). */
  masterPorts(): Promise<number[]>;
  close(): Promise<void>;
}

/**
 * Starts one Redis, a master with a replica behind three Sentinels, or a
 * Redis Cluster of three masters (with a replica each when `replicas`).
 */
export async function startTopology(
  mode: RedisMode,
  options: { replicas?: boolean } = {},
): Promise<TestTopology & { sentinel?: RedisSentinelServer; cluster?: RedisClusterServer }> {
  switch (mode) {
    case "single": {
      const redis = await RedisServer.start();
      return {
        mode,
        env: { REDIS_URL: redis.url },
        masterPorts: async () => [redis.port],
        close: () => redis.close(),
      };
    }
    case "sentinel": {
      const sentinel = await RedisSentinelServer.start();
      return {
        mode,
        sentinel,
        env: {
          REDIS_SENTINELS: sentinel.sentinelUrls.join(","),
          REDIS_SENTINEL_MASTER: sentinel.masterName,
        },
        masterPorts: async () => [(await sentinel.master()).port],
        close: () => sentinel.close(),
      };
    }
    case "cluster": {
      const cluster = await RedisClusterServer.start(3, {
        replicas: options.replicas === true ? 1 : 0,
        nodeTimeoutMs: 1000,
      });
      return {
        mode,
        cluster,
        env: { REDIS_CLUSTER_NODES: cluster.urls.join(",") },
        masterPorts: async () => (await cluster.masters()).map((node) => node.port),
        close: () => cluster.close(),
      };
    }
  }
}
