import type { RedisTarget } from "../../config.ts";
import type { Logger } from "../../logger.ts";
import type { RedisConnections } from "../redis-connection.ts";
import { connectCluster } from "./cluster.ts";
import { connectSentinel } from "./sentinel.ts";
import { connectSingle } from "./single.ts";

/** Connects to one Redis, to the master Sentinels name, or to a Redis Cluster. */
export function connectRedis(target: RedisTarget, log: Logger): Promise<RedisConnections> {
  switch (target.mode) {
    case "single":
      return connectSingle(target.url, log);
    case "sentinel":
      return connectSentinel(target.sentinels, target.masterName, log);
    case "cluster":
      return connectCluster(target.nodes, log);
  }
}
