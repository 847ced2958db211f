import type { RedisNodeInfo, RedisStats, RedisTopology } from "../admin-contract.ts";
import { OperationError } from "../supervisor.ts";

/**
 * The Redis the cluster's instances use, as the supervisor sees it: one
 * contract for one redis-server, a Sentinel set, a Redis Cluster (all of
 * them its own) and a Redis given by REDIS_URL. The choice is made once, in
 * `startLocalRedis` (start-local-redis.ts); nothing else asks which it is.
 */
export interface LocalRedis {
  readonly topology: RedisTopology;
  /** One line that says what it is (no password), for the banner and the dashboard. */
  readonly describe: string;
  /**
   * What every instance gets to find it. The other topologies' variables are
   * unset (undefined), so that the supervisor's own environment cannot point
   * instances elsewhere.
   */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The banner's lines about Redis, each process with its pid; files shown under `shownDataDir`. */
  banner(shownDataDir: string): string[];
  /** Pids of the Redis processes running now, for the state file. */
  pids(): number[];
  /** `GET /_cluster/redis`: every node with the role it says it has now. */
  stats(): Promise<RedisStats>;
  /**
   * The same without waiting: the roles the nodes said at most a second ago
   * (they are asked in the background), for a poller that reads synchronously.
   */
  snapshot(): RedisStats;
  /** SIGKILL one node (a crash). */
  kill(id: string): Promise<RedisNodeInfo>;
  /** Start a killed node again, on its port and with its data. */
  start(id: string): Promise<RedisNodeInfo>;
  /** Stops every process it started; a given Redis is left running. */
  stop(): Promise<void>;
  /** Last resort when the supervisor is going down hard. */
  killAllNow(): void;
}

/** Unset in every instance's environment unless a topology sets it. */
export const NO_REDIS_ENV: Readonly<Record<string, undefined>> = {
  REDIS_URL: undefined,
  REDIS_SENTINELS: undefined,
  REDIS_SENTINEL_MASTER: undefined,
  REDIS_CLUSTER_NODES: undefined,
};

/** A URL with its password replaced, for what is printed and served. */
export function withoutPassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== "") parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(unparsable REDIS_URL)";
  }
}

/**
 * REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES: a Redis that is not the
 * supervisor's to stop, kill or start. The instances get the variables as
 * they were given (a Sentinel set or a Cluster keeps its failover).
 */
export class ExternalRedis implements LocalRedis {
  readonly topology = "external";
  readonly describe: string;
  readonly env: Readonly<Record<string, string | undefined>>;

  constructor(given: Record<string, string>) {
    this.describe =
      given.REDIS_SENTINELS !== undefined
        ? `Sentinels ${given.REDIS_SENTINELS.split(",").map(withoutPassword).join(", ")}, master "${given.REDIS_SENTINEL_MASTER ?? ""}"`
        : given.REDIS_CLUSTER_NODES !== undefined
          ? `Cluster ${given.REDIS_CLUSTER_NODES.split(",").map(withoutPassword).join(", ")}`
          : withoutPassword(given.REDIS_URL ?? "");
    this.env = { ...NO_REDIS_ENV, ...given };
  }

  banner(): string[] {
    const variable =
      this.env.REDIS_SENTINELS !== undefined
        ? "REDIS_SENTINELS"
        : this.env.REDIS_CLUSTER_NODES !== undefined
          ? "REDIS_CLUSTER_NODES"
          : "REDIS_URL";
    return [`using ${variable} ${this.describe}`];
  }

  pids(): number[] {
    return [];
  }

  async stats(): Promise<RedisStats> {
    return this.snapshot();
  }

  snapshot(): RedisStats {
    return { topology: this.topology, describe: this.describe, nodes: [] };
  }

  kill(): Promise<RedisNodeInfo> {
    return Promise.reject(this.notOurs());
  }

  start(): Promise<RedisNodeInfo> {
    return Promise.reject(this.notOurs());
  }

  async stop(): Promise<void> {}

  killAllNow(): void {}

  private notOurs(): OperationError {
    return new OperationError(
      "this cluster uses a Redis given by its environment (REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES), which is not the supervisor's to kill or start",
      400,
    );
  }
}
