import { join } from "node:path";
import { LocalNodes, type NodeEvents, OwnRedis } from "./local-nodes.ts";
import { RedisProcess } from "./local-redis.ts";
import { type LocalRedis, NO_REDIS_ENV } from "./local-topology.ts";

/** `npm start`: one redis-server of the supervisor's own, with its data kept in DATA_DIR. */
export class SingleRedis extends OwnRedis implements LocalRedis {
  readonly topology = "single";
  private constructor(
    private readonly redis: RedisProcess,
    events: NodeEvents,
  ) {
    super(new LocalNodes([{ process: redis, role: "master" }], events), redis.url, {
      ...NO_REDIS_ENV,
      REDIS_URL: redis.url,
    });
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

  /** SIGTERM, so that Redis flushes its append-only file; SIGKILL when there is no time. */
  protected stopProcesses(now: boolean): Promise<void> {
    return this.redis.stop(now ? "SIGKILL" : undefined);
  }
}
