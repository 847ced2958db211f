import { RedisServer } from "../../src/cluster/redis/server.ts";
import { ClusterProcess } from "../harness/cluster-process.ts";
import type { ClusterControl } from "./run-chaos.ts";

/**
 * A local cluster for the chaos run: its own redis-server with persistence
 * (so that the run can restart it) and the supervisor with its router, both
 * stopped by `close()`.
 */
export class LocalChaosCluster implements ClusterControl {
  private constructor(
    private readonly redis: RedisServer,
    private readonly cluster: ClusterProcess,
  ) {}

  static async start(
    instances: number,
    env: Record<string, string> = {},
  ): Promise<LocalChaosCluster> {
    const redis = await RedisServer.start({ persistence: true });
    try {
      const cluster = await ClusterProcess.start({
        instances,
        env: {
          REDIS_URL: redis.url,
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

  get redisUrl(): string {
    return this.redis.url;
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
    await this.redis.restart();
  }

  async close(): Promise<void> {
    try {
      await this.cluster.stop();
    } finally {
      await this.redis.close();
    }
  }
}
