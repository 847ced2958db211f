import { join } from "node:path";
import type { RedisNodeInfo, RedisStats } from "../admin-contract.ts";
import { LocalNodes, type NodeEvents } from "./local-nodes.ts";
import { RedisProcess } from "./local-redis.ts";
import { type LocalRedis, NO_REDIS_ENV } from "./local-topology.ts";

/** `npm start`: one redis-server of the supervisor's own, with its data kept in DATA_DIR. */
export class SingleRedis implements LocalRedis {
  readonly topology = "single";
  readonly describe: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  private readonly nodes: LocalNodes;

  private constructor(
    private readonly redis: RedisProcess,
    events: NodeEvents,
  ) {
    this.describe = redis.url;
    this.env = { ...NO_REDIS_ENV, REDIS_URL: redis.url };
    this.nodes = new LocalNodes([{ process: redis, role: "master" }], events);
  }

  static async start(
    dataDir: string,
    adopt: (redis: LocalRedis) => void,
    events: NodeEvents,
  ): Promise<SingleRedis> {
    let single: SingleRedis | undefined;
    await RedisProcess.start({ dataDir }, (redis) => {
      single = new SingleRedis(redis, events);
      adopt(single);
    });
    if (single === undefined) throw new Error("redis-server was not adopted");
    return single;
  }

  banner(shownDataDir: string): string[] {
    return [`${this.redis.url} (pid ${this.redis.pid}, data in ${join(shownDataDir, "redis")})`];
  }

  pids(): number[] {
    return this.nodes.pids();
  }

  async stats(): Promise<RedisStats> {
    return { topology: this.topology, describe: this.describe, nodes: await this.nodes.list() };
  }

  snapshot(): RedisStats {
    return { topology: this.topology, describe: this.describe, nodes: this.nodes.known() };
  }

  kill(id: string): Promise<RedisNodeInfo> {
    return this.nodes.kill(id);
  }

  start(id: string): Promise<RedisNodeInfo> {
    return this.nodes.start(id);
  }

  /** SIGTERM, so that Redis flushes its append-only file. */
  async stop(): Promise<void> {
    this.nodes.close();
    await this.redis.stop();
  }

  killAllNow(): void {
    this.nodes.close();
    void this.redis.stop("SIGKILL");
  }
}
