import { LocalNodes, type NodeEvents, ThrowawayRedis } from "./local-nodes.ts";
import { type LocalRedis, NO_REDIS_ENV } from "./local-topology.ts";
import { RedisSentinelServer } from "./sentinel.ts";

/**
 * How long the Sentinels wait for a silent master before they call it down.
 * Short, so that a person who kills the master sees the failover within a
 * few seconds; not so short that a busy laptop fails over by mistake.
 */
const DOWN_AFTER_MS = 2000;

/**
 * `npm start -- --redis-sentinel`: a master, one replica and three
 * Sentinels, each a redis-server on a free loopback port, their files under
 * the given folder and their output in the logs folder. Nothing is kept on
 * disk between runs (no RDB, no AOF): it is there to watch a failover.
 */
export class LocalSentinel extends ThrowawayRedis implements LocalRedis {
  readonly topology = "sentinel";

  private constructor(server: RedisSentinelServer, nodes: LocalNodes, dir: string) {
    const replicas = server.nodes.length - 1;
    super(
      server,
      dir,
      nodes,
      `Sentinel: master "${server.masterName}" with ${replicas} ${replicas === 1 ? "replica" : "replicas"}, ` +
        `watched by ${server.sentinels.length} Sentinels`,
      {
        ...NO_REDIS_ENV,
        REDIS_SENTINELS: server.sentinelUrls.join(","),
        REDIS_SENTINEL_MASTER: server.masterName,
      },
    );
  }

  static async start(dir: string, logDir: string, events: NodeEvents): Promise<LocalSentinel> {
    const server = await RedisSentinelServer.start({
      replicas: 1,
      downAfterMs: DOWN_AFTER_MS,
      dir,
      node: { logDir, supervised: true },
    });
    const [master, ...replicas] = server.nodes;
    const nodes = new LocalNodes(
      [
        ...(master === undefined ? [] : [{ process: master, role: "master" as const }]),
        ...replicas.map((process) => ({ process, role: "replica" as const })),
        ...server.sentinels.map((process) => ({ process, role: "sentinel" as const })),
      ],
      events,
    );
    return new LocalSentinel(server, nodes, dir);
  }
}
