import type { RedisTarget } from "../../src/server/config.ts";
import { ClusterProcess } from "../harness/cluster-process.ts";
import { type ChaosRedis, type ChaosRedisMode, startChaosRedis } from "./redis-topology.ts";
import type { ClusterControl } from "./run-chaos.ts";

/**
 * A local cluster for the chaos run: its own Redis of the chosen topology
 * (one server with persistence by default, so that the run can restart it;
 * or Sentinel, or a Cluster) and the supervisor with its router, both
 * stopped by `close()`.
 */
export class LocalChaosCluster implements ClusterControl {
  private constructor(
    readonly redis: ChaosRedis,
    private readonly cluster: ClusterProcess,
  ) {}

  static async start(
    instances: number,
    env: Record<string, string> = {},
    mode: ChaosRedisMode = "single",
  ): Promise<LocalChaosCluster> {
    const redis = await startChaosRedis(mode);
    try {
      const cluster = await ClusterProcess.start({
        instances,
        env: {
          ...redis.env,
          // Every client is a user of its own, registered from this one address.
          AUTH_ATTEMPTS_PER_MINUTE: "100000",
          HISTORY_SIZE: "1000000",
          DRAIN_TIMEOUT_MS: "5000",
          ...env,
        },
      });
      return new LocalChaosCluster(redis, cluster);
    } catch (error) {
      await redis.close();
      throw error;
    }
  }

  get routerUrl(): string {
    return this.cluster.url;
  }

  get redisTarget(): RedisTarget {
    return this.redis.target;
  }

  async instances() {
    return this.cluster.instances();
  }

  async kill(id: string): Promise<void> {
    await this.cluster.admin("POST", `/instances/${id}/kill`);
  }

  async stop(id: string): Promise<void> {
    await this.cluster.admin("POST", `/instances/${id}/stop`);
  }

  async scale(n: number): Promise<void> {
    await this.cluster.admin("POST", "/scale", { instances: n });
  }

  async restart(strategy: "all" | "rolling"): Promise<void> {
    await this.cluster.admin("POST", "/restart", { strategy });
  }

  async restartRedis(): Promise<void> {
    if (this.redis.restart === undefined) {
      throw new Error(`a graceful Redis restart is a step for one Redis, not ${this.redis.mode}`);
    }
    await this.redis.restart();
  }

  killRedisMaster(rooms: readonly string[]) {
    return this.redis.killMaster(rooms);
  }

  healRedis(): Promise<void> {
    return this.redis.heal();
  }

  async close(): Promise<void> {
    try {
      await this.cluster.stop();
    } finally {
      await this.redis.close();
    }
  }
}
