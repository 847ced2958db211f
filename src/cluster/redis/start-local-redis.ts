import { rm } from "node:fs/promises";
import { join } from "node:path";
import type { LocalTopology } from "../config.ts";
import { LocalCluster } from "./local-cluster.ts";
import type { NodeEvents } from "./local-nodes.ts";
import { findRedisServer, RedisNotFoundError } from "./local-redis.ts";
import { LocalSentinel } from "./local-sentinel.ts";
import { SingleRedis } from "./local-single.ts";
import type { LocalRedis } from "./local-topology.ts";

export interface LocalRedisOptions {
  topology: LocalTopology;
  /** Redis data goes under `<dataDir>/redis*`, its output to `<dataDir>/logs`. */
  dataDir: string;
  /**
   * Gets the Redis as soon as it exists, before it is ready, so that a
   * shutdown during the start can stop it.
   */
  adopt: (redis: LocalRedis) => void;
  events: NodeEvents;
}

/**
 * Starts the supervisor's own Redis in the topology asked for. A Sentinel
 * set or a Cluster starts empty each time (its nodes get new ports, and a
 * Cluster's node files name the old ones): its folder is cleared first.
 */
/**
 * A Sentinel set or a Cluster exists once all its nodes run (until then its
 * nodes end with this process by themselves, see RedisNodeOptions.supervised).
 */
function adopted(redis: LocalRedis, adopt: (redis: LocalRedis) => void): LocalRedis {
  adopt(redis);
  return redis;
}

export async function startLocalRedis(options: LocalRedisOptions): Promise<LocalRedis> {
  if ((await findRedisServer()) === undefined) throw new RedisNotFoundError();
  const logDir = join(options.dataDir, "logs");
  switch (options.topology) {
    case "single":
      return SingleRedis.start(options.dataDir, options.adopt, options.events);
    case "sentinel": {
      const dir = join(options.dataDir, "redis-sentinel");
      await rm(dir, { recursive: true, force: true });
      return adopted(await LocalSentinel.start(dir, logDir, options.events), options.adopt);
    }
    case "cluster": {
      const dir = join(options.dataDir, "redis-cluster");
      await rm(dir, { recursive: true, force: true });
      return adopted(await LocalCluster.start(dir, logDir, options.events), options.adopt);
    }
  }
}
