import { RedisClusterServer } from "./cluster.ts";
import { LocalNodes, type NodeEvents, ThrowawayRedis } from "./local-nodes.ts";
import { type LocalRedis, NO_REDIS_ENV } from "./local-topology.ts";

/**
 * How long a node may be silent before the others fail it over to its
 * replica. Short, so that a person who kills a master sees the failover
 * within seconds; not so short that a busy laptop fails over by mistake.
 */
const NODE_TIMEOUT_MS = 3000;

/**
 * `npm start -- --redis-cluster`: a Redis Cluster of three masters with a
 * replica each, each a redis-server on a free loopback port, their files
 * (nodes.conf) under the given folder and their output in the logs folder.
 * Nothing is kept between runs: it is there to watch a failover.
 */
export class LocalCluster extends ThrowawayRedis implements LocalRedis {
  readonly topology = "cluster";

  private constructor(server: RedisClusterServer, nodes: LocalNodes, dir: string) {
    const masters = nodes.known().filter((node) => node.role === "master").length;
    super(
      server,
      dir,
      nodes,
      `Cluster: ${masters} masters, ${server.nodes.length - masters} replicas`,
      { ...NO_REDIS_ENV, REDIS_CLUSTER_NODES: server.urls.join(",") },
    );
  }

  static async start(dir: string, logDir: string, events: NodeEvents): Promise<LocalCluster> {
    const server = await RedisClusterServer.start(3, {
      replicas: 1,
      nodeTimeoutMs: NODE_TIMEOUT_MS,
      dir,
      node: { logDir, supervised: true },
    });
    const masters = new Set((await server.masters()).map((node) => node.port));
    const nodes = new LocalNodes(
      server.nodes.map((process) => ({
        process,
        role: masters.has(process.port) ? ("master" as const) : ("replica" as const),
      })),
      events,
    );
    return new LocalCluster(server, nodes, dir);
  }
}
