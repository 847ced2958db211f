import { execFile } from "node:child_process";
import { rm } from "node:fs/promises";
import { promisify } from "node:util";
import { freePort } from "../../process/index.ts";
import { dataNodeArgs, RedisNode, type RedisNodeOptions, topologyFolder } from "./node.ts";

const run = promisify(execFile);

/**
 * A real Redis Cluster of our own: `masters` masters with `replicas`
 * replicas each, on free ports, each node in its own folder, joined with
 * `redis-cli --cluster create`. A node that does not answer for
 * `nodeTimeoutMs` is failed over to its replica.
 */
export class RedisClusterServer {
  private constructor(
    private readonly dir: string,
    readonly nodes: RedisNode[],
    /** A folder the caller gave is the caller's: close() leaves it. */
    private readonly ownsDir = true,
  ) {}

  /** Ports of every node started (masters and replicas). */
  get ports(): number[] {
    return this.nodes.map((node) => node.port);
  }

  /** Seed URLs, as REDIS_CLUSTER_NODES takes them. */
  get urls(): string[] {
    return this.nodes.map((node) => node.url);
  }

  static async start(
    masters = 3,
    options: {
      replicas?: number;
      nodeTimeoutMs?: number;
      /** Where the nodes keep their files. @default a new temporary folder */
      dir?: string;
      node?: RedisNodeOptions;
    } = {},
  ): Promise<RedisClusterServer> {
    const { dir, owned } = await topologyFolder(options.dir, "sb-redis-cluster-");
    const cluster = new RedisClusterServer(dir, [], owned);
    const startNode = (port: number, args: string[]) => RedisNode.start(port, args, options.node);
    const replicas = options.replicas ?? 0;
    try {
      for (let i = 0; i < masters * (1 + replicas); i++) {
        const { port, args } = await dataNodeArgs(dir);
        const node = await startNode(port, [
          ...args,
          "--cluster-enabled",
          "yes",
          // A free port of its own, not port + 10000 (Redis's default): that
          // one may be taken already, or above 65535.
          "--cluster-port",
          String(await freePort()),
          "--cluster-config-file",
          "nodes.conf",
          "--cluster-node-timeout",
          String(options.nodeTimeoutMs ?? 15_000),
        ]);
        cluster.nodes.push(node);
      }
      await run("redis-cli", [
        "--cluster",
        "create",
        ...cluster.ports.map((port) => `127.0.0.1:${port}`),
        "--cluster-replicas",
        String(replicas),
        "--cluster-yes",
      ]);
      await cluster.waitHealthy(15_000, masters * (1 + replicas));
      // A replica that never finished its first sync with its master refuses
      // to take over when that master dies (to Redis its data is too old to
      // be trusted, cluster-replica-validity-factor), so the Cluster would
      // never fail over: it is not ready before every replica has synced.
      await cluster.waitReplicasSynced(30_000);
      return cluster;
    } catch (error) {
      await cluster.close();
      throw error;
    }
  }

  /** The nodes that serve slots as masters now. */
  async masters(): Promise<RedisNode[]> {
    const live = this.nodes.find((node) => node.running);
    if (live === undefined) return [];
    const { stdout } = await run("redis-cli", ["-p", String(live.port), "cluster", "nodes"]);
    const ports = stdout
      .trim()
      .split("\n")
      .map((line) => line.split(" "))
      .filter(
        ([, , flags, , , , , , ...ranges]) =>
          flags?.includes("master") && !flags.includes("fail") && ranges.length > 0,
      )
      .map(([, address]) => Number(address?.split("@")[0]?.split(":")[1]));
    return this.nodes.filter((node) => ports.includes(node.port));
  }

  /** The node that is master of the key's slot now, as the running nodes see it. */
  async masterOf(key: string): Promise<RedisNode> {
    const live = this.nodes.find((node) => node.running);
    if (live === undefined) throw new Error("no node runs");
    const port = String(live.port);
    const slot = Number((await run("redis-cli", ["-p", port, "cluster", "keyslot", key])).stdout);
    const { stdout } = await run("redis-cli", ["-p", port, "cluster", "nodes"]);
    for (const line of stdout.trim().split("\n")) {
      const [, address, flags, , , , , , ...ranges] = line.split(" ");
      if (!flags?.includes("master") || flags.includes("fail")) continue;
      const owns = ranges.some((range) => {
        const [from, to] = range.split("-").map(Number);
        return from !== undefined && slot >= from && slot <= (to ?? from);
      });
      const nodePort = Number(address?.split("@")[0]?.split(":")[1]);
      const node = this.nodes.find((candidate) => candidate.port === nodePort);
      if (owns && node !== undefined) return node;
    }
    throw new Error(`no master serves the slot of ${key}`);
  }

  /** `kill -9` of the master of the key's slot; resolves with the node killed. */
  async killMasterOf(key: string): Promise<RedisNode> {
    const master = await this.masterOf(key);
    await master.stop("SIGKILL");
    return master;
  }

  /** Resolves once a running node other than `old` serves the key's slot and the cluster is ok. */
  async waitFailover(key: string, old: RedisNode, timeoutMs: number): Promise<RedisNode> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const master = await this.masterOf(key).catch(() => undefined);
      if (master !== undefined && master !== old && master.running) {
        await this.waitHealthy(Math.max(0, deadline - Date.now()));
        return master;
      }
      if (Date.now() > deadline) throw new Error("the Redis Cluster did not fail over");
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Every running replica has a working link to its master (its first sync is done). */
  async waitReplicasSynced(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const synced = await Promise.all(
        this.nodes
          .filter((node) => node.running)
          .map(async (node) => {
            const { stdout } = await run("redis-cli", [
              "-p",
              String(node.port),
              "info",
              "replication",
            ]);
            return stdout.includes("role:master") || stdout.includes("master_link_status:up");
          }),
      );
      if (synced.every(Boolean)) return;
      if (Date.now() > deadline) throw new Error("the Redis Cluster's replicas did not sync");
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Every running node says cluster_state:ok (all slots covered and agreed) and knows them all. */
  async waitHealthy(timeoutMs: number, known = 0): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const states = await Promise.all(
        this.nodes
          .filter((node) => node.running)
          .map(async (node) => {
            const { stdout } = await run("redis-cli", ["-p", String(node.port), "cluster", "info"]);
            const nodes = Number(/cluster_known_nodes:(\d+)/.exec(stdout)?.[1] ?? 0);
            return stdout.includes("cluster_state:ok") && nodes >= known;
          }),
      );
      if (states.every(Boolean)) return;
      if (Date.now() > deadline) throw new Error("the Redis Cluster did not become healthy");
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Stops every node and removes the folder. Safe to call twice. */
  async close(): Promise<void> {
    await Promise.all(this.nodes.map((node) => node.stop("SIGKILL")));
    if (this.ownsDir) await rm(this.dir, { recursive: true, force: true });
  }
}
