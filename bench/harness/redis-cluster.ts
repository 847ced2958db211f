import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { endWithThisProcess, freePort } from "../../src/process/index.ts";
import { waitForPort } from "./redis-server.ts";

const run = promisify(execFile);

/**
 * A real Redis Cluster of our own: three masters (no replicas) on free ports,
 * each in its own folder, joined with `redis-cli --cluster create`.
 */
export class RedisClusterServer {
  private constructor(
    readonly ports: number[],
    private readonly dir: string,
    private readonly children: ChildProcess[],
  ) {}

  /** Seed URLs, as REDIS_CLUSTER_NODES takes them. */
  get urls(): string[] {
    return this.ports.map((port) => `redis://127.0.0.1:${port}`);
  }

  static async start(masters = 3): Promise<RedisClusterServer> {
    const dir = await mkdtemp(join(tmpdir(), "sb-redis-cluster-"));
    const ports: number[] = [];
    const children: ChildProcess[] = [];
    const cluster = new RedisClusterServer(ports, dir, children);
    try {
      for (let i = 0; i < masters; i++) {
        const port = await freePort();
        const nodeDir = join(dir, String(port));
        await mkdir(nodeDir);
        const child = spawn(
          "redis-server",
          [
            "--port",
            String(port),
            "--bind",
            "127.0.0.1",
            "--dir",
            nodeDir,
            "--cluster-enabled",
            "yes",
            "--cluster-config-file",
            "nodes.conf",
            "--save",
            "",
            "--appendonly",
            "no",
          ],
          { stdio: ["ignore", "ignore", "inherit"] },
        );
        endWithThisProcess(child);
        ports.push(port);
        children.push(child);
        await waitForPort(port, 5000, () => child.exitCode !== null);
      }
      await run("redis-cli", [
        "--cluster",
        "create",
        ...ports.map((port) => `127.0.0.1:${port}`),
        "--cluster-replicas",
        "0",
        "--cluster-yes",
      ]);
      await cluster.waitHealthy(10_000);
      return cluster;
    } catch (error) {
      await cluster.close();
      throw error;
    }
  }

  /** Every node says cluster_state:ok (all slots covered and agreed). */
  private async waitHealthy(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const states = await Promise.all(
        this.ports.map(async (port) => {
          const { stdout } = await run("redis-cli", ["-p", String(port), "cluster", "info"]);
          return stdout.includes("cluster_state:ok");
        }),
      );
      if (states.every(Boolean)) return;
      if (Date.now() > deadline) throw new Error("the Redis Cluster did not become healthy");
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Stops every node and removes the folder. Safe to call twice. */
  async close(): Promise<void> {
    await Promise.all(
      this.children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) {
              resolve();
              return;
            }
            child.once("exit", () => resolve());
            child.kill("SIGKILL");
          }),
      ),
    );
    await rm(this.dir, { recursive: true, force: true });
  }
}
