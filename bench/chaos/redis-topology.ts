import { RedisClusterServer } from "../../src/cluster/redis/cluster.ts";
import type { RedisNode } from "../../src/cluster/redis/node.ts";
import { RedisSentinelServer } from "../../src/cluster/redis/sentinel.ts";
import { RedisServer } from "../../src/cluster/redis/server.ts";
import type { RedisTarget } from "../../src/server/config.ts";
import { Keys } from "../../src/server/store/keys.ts";

export type ChaosRedisMode = RedisTarget["mode"];

/** What a `kill -9` of a Redis master did: the rooms it hit, and when Redis had healed by itself. */
export interface MasterKill {
  killedAt: number;
  /** Rooms whose keys the killed master held. */
  affected: string[];
  /** Milliseconds from the kill until Redis served those rooms again (its own failover, or the restart). */
  redisBack: Promise<number>;
}

/**
 * The Redis of a chaos run, of one topology, started here: one server with
 * its append-only file, a master and a replica behind three Sentinels, or a
 * Cluster of three masters with a replica each. It can kill a master and
 * bring the killed node back (as a replica, where there are replicas), so
 * that the step can run again.
 */
export interface ChaosRedis {
  readonly mode: ChaosRedisMode;
  /** How the instances find this Redis. */
  readonly target: RedisTarget;
  /** The environment that points an instance (or the supervisor) at it. */
  readonly env: Record<string, string>;
  /** A graceful restart (single Redis only): the "restart Redis" step. */
  restart?(): Promise<void>;
  /** `kill -9` of the master that holds `rooms[0]`; a single Redis is started again at once. */
  killMaster(rooms: readonly string[]): Promise<MasterKill>;
  /** Brings the killed node back and waits until every master has a synced replica again. */
  heal(): Promise<void>;
  close(): Promise<void>;
}

const keys = new Keys("sb");
const logKey = (room: string) => keys.room(room).log;

/** Polls `check` every 100 ms until it answers true; the time it took. */
async function timeUntil(check: () => Promise<boolean>, timeoutMs: number, what: string) {
  const start = Date.now();
  for (;;) {
    if (await check().catch(() => false)) return Date.now() - start;
    if (Date.now() - start > timeoutMs) throw new Error(`${what} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export async function startChaosRedis(mode: ChaosRedisMode): Promise<ChaosRedis> {
  switch (mode) {
    case "single":
      return singleRedis();
    case "sentinel":
      return sentinelRedis();
    case "cluster":
      return clusterRedis();
  }
}

async function singleRedis(): Promise<ChaosRedis> {
  const redis = await RedisServer.start({ persistence: true });
  return {
    mode: "single",
    target: { mode: "single", url: redis.url },
    env: { REDIS_URL: redis.url },
    restart: () => redis.restart(),
    async killMaster(rooms) {
      await redis.stop("SIGKILL");
      const killedAt = Date.now();
      // No replica to take over: an operator (or a process manager) starts it
      // again, and it reloads its append-only file.
      await redis.restart();
      return { killedAt, affected: [...rooms], redisBack: Promise.resolve(Date.now() - killedAt) };
    },
    heal: async () => undefined,
    close: () => redis.close(),
  };
}

async function sentinelRedis(): Promise<ChaosRedis> {
  const sentinel = await RedisSentinelServer.start();
  let killed: RedisNode | undefined;
  return {
    mode: "sentinel",
    target: {
      mode: "sentinel",
      sentinels: sentinel.sentinelUrls,
      masterName: sentinel.masterName,
    },
    env: {
      // The supervisor then starts no Redis of its own; the instances follow the Sentinels.
      REDIS_URL: sentinel.nodes[0]?.url ?? "",
      REDIS_SENTINELS: sentinel.sentinelUrls.join(","),
      REDIS_SENTINEL_MASTER: sentinel.masterName,
    },
    async killMaster(rooms) {
      const victim = await sentinel.killMaster();
      const killedAt = Date.now();
      killed = victim;
      const redisBack = sentinel.waitFailover(victim, 60_000).then(() => Date.now() - killedAt);
      return { killedAt, affected: [...rooms], redisBack };
    },
    async heal() {
      const node = killed;
      if (node === undefined) return;
      killed = undefined;
      await node.restart();
      // The Sentinels turn the old master into a replica of the new one.
      const master = await sentinel.master();
      await sentinel.waitReplicated(master.port, 1, 60_000);
    },
    close: () => sentinel.close(),
  };
}

async function clusterRedis(): Promise<ChaosRedis> {
  const cluster = await RedisClusterServer.start(3, { replicas: 1, nodeTimeoutMs: 1000 });
  let killed: RedisNode | undefined;
  return {
    mode: "cluster",
    target: { mode: "cluster", nodes: cluster.urls },
    env: {
      REDIS_URL: cluster.urls[0] ?? "",
      REDIS_CLUSTER_NODES: cluster.urls.join(","),
    },
    async killMaster(rooms) {
      const [first] = rooms;
      if (first === undefined) throw new Error("no room to aim at");
      const victim = await cluster.masterOf(logKey(first));
      const owners = await Promise.all(rooms.map((room) => cluster.masterOf(logKey(room))));
      const affected = rooms.filter((_room, i) => owners[i] === victim);
      await victim.stop("SIGKILL");
      const killedAt = Date.now();
      killed = victim;
      const redisBack = cluster
        .waitFailover(logKey(first), victim, 60_000)
        .then(() => Date.now() - killedAt);
      return { killedAt, affected, redisBack };
    },
    async heal() {
      const node = killed;
      if (node === undefined) return;
      killed = undefined;
      // With its nodes.conf it rejoins as a replica of the node that took its place.
      await node.restart();
      await timeUntil(
        async () => (await cluster.masters()).every((master) => master !== node),
        60_000,
        "the restarted node did not rejoin as a replica",
      );
      await cluster.waitReplicasSynced(60_000);
      await cluster.waitHealthy(60_000, cluster.nodes.length);
    },
    close: () => cluster.close(),
  };
}
