import { execFile } from "node:child_process";
import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort } from "../../process/index.ts";
import { dataNodeArgs, RedisNode, type RedisNodeOptions, topologyFolder } from "./node.ts";

const run = promisify(execFile);

/** The master name the Sentinels monitor. */
export const SENTINEL_MASTER = "switchboard";

/**
 * A real Redis Sentinel deployment of our own, from `redis-server`: one
 * master, `replicas` replicas and three Sentinels (quorum 2) on free ports,
 * each in its own folder. The Sentinels call a master down after
 * `downAfterMs` without an answer, so a `kill -9` of the master fails over
 * in a few seconds.
 */
export class RedisSentinelServer {
  private constructor(
    private readonly dir: string,
    /** Data nodes, the first being the master at start. */
    readonly nodes: RedisNode[],
    readonly sentinels: RedisNode[],
    /** A folder the caller gave is the caller's: close() leaves it. */
    private readonly ownsDir = true,
  ) {}

  /** As REDIS_SENTINELS takes them. */
  get sentinelUrls(): string[] {
    return this.sentinels.map((sentinel) => sentinel.url);
  }

  get masterName(): string {
    return SENTINEL_MASTER;
  }

  static async start(
    options: {
      replicas?: number;
      downAfterMs?: number;
      /** Where the nodes keep their files. @default a new temporary folder */
      dir?: string;
      node?: RedisNodeOptions;
    } = {},
  ): Promise<RedisSentinelServer> {
    const { dir, owned } = await topologyFolder(options.dir, "sb-redis-sentinel-");
    const topology = new RedisSentinelServer(dir, [], [], owned);
    try {
      const data = async (replicaOf: number | undefined) => {
        const { port, args } = await dataNodeArgs(dir);
        if (replicaOf !== undefined) args.push("--replicaof", "127.0.0.1", String(replicaOf));
        return RedisNode.start(port, args, options.node);
      };
      const master = await data(undefined);
      topology.nodes.push(master);
      for (let i = 0; i < (options.replicas ?? 1); i++) {
        topology.nodes.push(await data(master.port));
      }
      await topology.waitReplicated(master.port, options.replicas ?? 1, 10_000);
      for (let i = 0; i < 3; i++) {
        const port = await freePort();
        const file = join(dir, `sentinel-${port}.conf`);
        await writeFile(
          file,
          [
            `port ${port}`,
            "bind 127.0.0.1",
            `dir ${dir}`,
            `sentinel monitor ${SENTINEL_MASTER} 127.0.0.1 ${master.port} 2`,
            `sentinel down-after-milliseconds ${SENTINEL_MASTER} ${options.downAfterMs ?? 1000}`,
            `sentinel failover-timeout ${SENTINEL_MASTER} 10000`,
            `sentinel parallel-syncs ${SENTINEL_MASTER} 1`,
            "",
          ].join("\n"),
        );
        topology.sentinels.push(await RedisNode.start(port, [file, "--sentinel"], options.node));
      }
      await topology.waitSentinelsAgree(10_000);
      return topology;
    } catch (error) {
      await topology.close();
      throw error;
    }
  }

  /** The data node the Sentinels name as master now. */
  async master(): Promise<RedisNode> {
    for (const sentinel of this.sentinels) {
      if (!sentinel.running) continue;
      try {
        const { stdout } = await run("redis-cli", [
          "-p",
          String(sentinel.port),
          "sentinel",
          "get-master-addr-by-name",
          SENTINEL_MASTER,
        ]);
        const port = Number(stdout.trim().split("\n")[1]);
        const node = this.nodes.find((candidate) => candidate.port === port);
        if (node !== undefined) return node;
      } catch {
        // try the next Sentinel
      }
    }
    throw new Error("no Sentinel names a master");
  }

  /** `kill -9` of the current master; resolves with the node killed. */
  async killMaster(): Promise<RedisNode> {
    const master = await this.master();
    await master.stop("SIGKILL");
    return master;
  }

  /** Resolves once the Sentinels name a running master other than `old`. */
  async waitFailover(old: RedisNode, timeoutMs: number): Promise<RedisNode> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const master = await this.master().catch(() => undefined);
      if (master !== undefined && master !== old && master.running) return master;
      if (Date.now() > deadline) throw new Error("the Sentinels did not fail over");
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Resolves once the data node on `port` has `replicas` replicas online. */
  async waitReplicated(port: number, replicas: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { stdout } = await run("redis-cli", ["-p", String(port), "info", "replication"]);
      const online = stdout.split("\n").filter((line) => /^slave\d+:.*state=online/.test(line));
      if (online.length >= replicas) return;
      if (Date.now() > deadline) throw new Error("the replicas did not come online");
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Every Sentinel knows the master, its replicas and the other Sentinels. */
  private async waitSentinelsAgree(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const replicas = this.nodes.length - 1;
    for (;;) {
      const ready = await Promise.all(
        this.sentinels.map(async (sentinel) => {
          const { stdout } = await run("redis-cli", [
            "-p",
            String(sentinel.port),
            "sentinel",
            "master",
            SENTINEL_MASTER,
          ]);
          const lines = stdout.trim().split("\n");
          const field = (name: string) => Number(lines[lines.indexOf(name) + 1]);
          return field("num-slaves") >= replicas && field("num-other-sentinels") >= 2;
        }),
      );
      if (ready.every(Boolean)) return;
      if (Date.now() > deadline) throw new Error("the Sentinels did not agree on the topology");
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Stops every process and removes the folder. Safe to call twice. */
  async close(): Promise<void> {
    await Promise.all([...this.sentinels, ...this.nodes].map((node) => node.stop("SIGKILL")));
    if (this.ownsDir) await rm(this.dir, { recursive: true, force: true });
  }
}
