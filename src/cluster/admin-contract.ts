/**
 * What the local cluster's admin API (`/_cluster/...`) answers: one contract
 * for the supervisor that serves it, the CLI, the benchmark's and the tests'
 * cluster harness, and the dashboard. Types only, so that the browser bundle
 * can import it too.
 */

export type InstanceState = "starting" | "running" | "draining" | "exited";

/** An instance as `GET /_cluster/instances` lists it. */
export interface InstanceInfo {
  id: string;
  port: number;
  pid: number | undefined;
  state: InstanceState;
  startedAt: string;
  sockets: number;
  /** Messages stored by this instance since it started (from its /healthz). */
  messages: number;
  exitedAt?: string;
  exit?: string;
}

/** An instance as the dashboard shows it. */
export interface InstanceStats extends InstanceInfo {
  /** Requests in flight plus upgraded sockets through the router right now. */
  routerConnections: number;
  /** Messages stored per second, over the last poll interval. */
  messagesPerSecond: number;
  /** The instance's event-loop delay p99 (ms), from its /healthz; absent until polled. */
  eventLoopLagMs?: number;
  /** Resident memory (bytes), from its /healthz; absent until polled. */
  rssBytes?: number;
  /** V8 heap used (bytes), from its /healthz; absent until polled. */
  heapUsedBytes?: number;
}

export type RedisTopology = "single" | "sentinel" | "cluster" | "external";

export type RedisRole = "master" | "replica" | "sentinel";

/** One Redis process of the local topology, as `GET /_cluster/redis` lists it. */
export interface RedisNodeInfo {
  /** Stable within a run, e.g. `redis-6379`. */
  id: string;
  port: number;
  pid: number | undefined;
  /** As the node itself says now (INFO replication); sentinels are `sentinel`. */
  role: RedisRole;
  /** Whether the process is alive. */
  up: boolean;
  /** For a replica: the port of the master it follows, when it says. */
  masterPort?: number;
}

export interface RedisStats {
  topology: RedisTopology;
  /** The URL (single, password removed), or a short description of the topology. */
  describe: string;
  /** Empty when the Redis is not the supervisor's own (REDIS_URL given). */
  nodes: RedisNodeInfo[];
}

/** The router's own figures. */
export interface RouterStats {
  /** Requests in flight plus upgraded sockets, all backends. */
  connections: number;
  /** Requests answered per second, over the last poll interval. */
  requestsPerSecond: number;
  /** Answers the router itself gave because no instance could take the request or answered in time (502/503/504). */
  errors: number;
}

/** One point of the dashboard's charts, one per poll. */
export interface StatsPoint {
  /** Milliseconds since the epoch. */
  t: number;
  sockets: number;
  messagesPerSecond: number;
  eventLoopLagMs?: number;
  rssBytes?: number;
}

/** `GET /_cluster/stats`. */
export interface ClusterStats {
  at: string;
  desired: number;
  instances: InstanceStats[];
  sockets: number;
  messagesPerSecond: number;
  /** The Redis connection, described (kept for older readers: same as `redisTopology.describe`). */
  redis: string;
  redisTopology: RedisStats;
  router: RouterStats;
  /** The last minutes of each instance's figures, oldest first, by instance id. */
  history: Record<string, StatsPoint[]>;
}
