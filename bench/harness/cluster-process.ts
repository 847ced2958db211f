import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { InstanceInfo, RedisStats } from "../../src/cluster/admin-contract.ts";
import {
  endPidsWithThisProcess,
  freePort,
  pidAlive,
  portAccepts,
  startFailure,
  terminate,
  waitUntil,
} from "../../src/process/index.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/**
 * An instance as GET /_cluster/instances lists it, with the pid it always
 * has once spawned (the harness measures and kills by pid; an entry whose
 * spawn failed has none and is left out by `instances()`).
 */
export type ClusterInstance = InstanceInfo & { pid: number };

export interface ClusterOptions {
  instances?: number;
  /** Extra environment (REDIS_URL, PATH...); the cluster's PORT and DATA_DIR are set here. */
  env?: Record<string, string>;
  /** Command-line arguments, as after `npm start --` (e.g. `--redis-sentinel`). */
  args?: string[];
  /** How long to wait for "Switchboard is running". @default 60000 */
  readyTimeoutMs?: number;
}

/** True when something accepts TCP connections on the port. */
export const portOpen = portAccepts;

/**
 * The supervisor (`npm start` without its build step) as a child process, for
 * the tests, the chaos run and the benchmark, on
 * a free port with a data folder of its own. `stop()` sends SIGTERM and waits;
 * if anything the supervisor ran is still there afterwards (even after a
 * SIGKILL of the supervisor), it is killed by pid, and the folder is removed.
 */
export class ClusterProcess {
  output = "";
  /** Every pid the cluster was seen running, for the leak checks. */
  readonly seenPids = new Set<number>();
  readonly seenPorts = new Set<number>();
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private readonly exited: Promise<void>;
  /** Takes back the listing of this cluster's processes for the end of this program. */
  private readonly unlist: () => void;

  private constructor(
    readonly child: ChildProcess,
    readonly port: number,
    readonly dataDir: string,
  ) {
    this.exited = new Promise((resolve) =>
      child.once("exit", (code, signal) => {
        this.exitInfo = { code, signal };
        resolve();
      }),
    );
    const keep = (chunk: Buffer) => {
      this.output += chunk.toString();
      if (process.env.SB_TEST_LOGS) process.stderr.write(chunk);
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    if (child.pid !== undefined) this.seenPids.add(child.pid);
    this.seenPorts.add(port);
    // If this program is ended before stop(), the supervisor cannot stop its
    // children (it is killed too): end them all by pid.
    this.unlist = endPidsWithThisProcess(() => this.knownPids().filter(pidAlive));
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get exit(): { code: number | null; signal: NodeJS.Signals | null } | undefined {
    return this.exitInfo;
  }

  /** Spawns the supervisor; does not wait for it. The caller stops it in `after`. */
  static async spawn(options: ClusterOptions = {}): Promise<ClusterProcess> {
    const port = await freePort();
    const dataDir = await mkdtemp(join(tmpdir(), "sb-cluster-"));
    const main = ["--import", "tsx", "src/cluster/main.ts", ...(options.args ?? [])];
    const child = spawn(process.execPath, main, {
      cwd: ROOT,
      env: {
        ...process.env,
        NODE_ENV: "test",
        LOG_LEVEL: process.env.SB_TEST_LOGS ? "debug" : "warn",
        REDIS_URL: "",
        PORT: String(port),
        DATA_DIR: dataDir,
        INSTANCES: String(options.instances ?? 3),
        DRAIN_TIMEOUT_MS: "3000",
        // The source itself, so that a test never runs a stale build.
        INSTANCE_ENTRY: "src/server/main.ts",
        ...options.env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    return new ClusterProcess(child, port, dataDir);
  }

  /** Spawns the supervisor and resolves once it prints that it is running. */
  static async start(options: ClusterOptions = {}): Promise<ClusterProcess> {
    const cluster = await ClusterProcess.spawn(options);
    try {
      await cluster.waitFor(/Switchboard is running/, options.readyTimeoutMs ?? 60_000);
      await cluster.instances();
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  /** Resolves when the output matches; rejects when the supervisor exits first or time runs out. */
  async waitFor(pattern: RegExp, timeoutMs: number): Promise<void> {
    try {
      await waitUntil(async () => pattern.test(this.output), {
        timeoutMs,
        what: `the supervisor (waiting for ${pattern})`,
        gaveUp: () => startFailure(this.child),
      });
    } catch (error) {
      throw new Error(`${error instanceof Error ? error.message : error}:\n${this.output}`);
    }
  }

  /** Waits for the supervisor to exit by itself. */
  async exitCode(timeoutMs = 30_000): Promise<number | null> {
    await terminate(this.child, timeoutMs, null);
    await this.exited;
    return this.exitInfo?.code ?? null;
  }

  async instances(): Promise<ClusterInstance[]> {
    const all = (await this.admin("GET", "/instances")) as InstanceInfo[];
    const list = all.filter((instance): instance is ClusterInstance => instance.pid !== undefined);
    for (const instance of all) this.seenPorts.add(instance.port);
    for (const instance of list) this.seenPids.add(instance.pid);
    return list;
  }

  /** `GET /_cluster/redis`: the Redis nodes with the roles they say they have. */
  async redis(): Promise<RedisStats> {
    const stats = (await this.admin("GET", "/redis")) as RedisStats;
    for (const node of stats.nodes) {
      if (node.pid !== undefined) this.seenPids.add(node.pid);
      this.seenPorts.add(node.port);
    }
    return stats;
  }

  async running(): Promise<ClusterInstance[]> {
    return (await this.instances()).filter((i) => i.state === "running");
  }

  /** Polls the instance list until `check` holds. */
  async waitForInstances(
    check: (instances: ClusterInstance[]) => boolean,
    timeoutMs = 30_000,
  ): Promise<ClusterInstance[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const list = await this.instances();
      if (check(list)) return list;
      if (Date.now() > deadline) {
        throw new Error(`instances never matched: ${JSON.stringify(list)}\n${this.output}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async admin(method: string, path: string, body?: unknown): Promise<unknown> {
    const res = await fetch(`${this.url}/_cluster${path}`, {
      method,
      headers: body === undefined ? {} : { "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const data: unknown = await res.json();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(data)}`);
    return data;
  }

  /** The pids the supervisor last wrote to its state file, if it still exists. */
  statePids(): number[] {
    try {
      const state = JSON.parse(readFileSync(join(this.dataDir, "cluster.json"), "utf8")) as {
        redisPid?: number;
        redisPids?: number[];
        instancePids?: number[];
      };
      return [
        ...(state.instancePids ?? []),
        ...(state.redisPid === undefined ? [] : [state.redisPid]),
        ...(state.redisPids ?? []),
      ];
    } catch {
      return [];
    }
  }

  /** Pids the supervisor printed ("(pid N)"), which outlive its state file. */
  printedPids(): number[] {
    return [...this.output.matchAll(/\(pid (\d+)/g)].map((m) => Number(m[1]));
  }

  /** Every pid the supervisor ran, as far as its state file and output tell (added to seenPids). */
  private knownPids(): number[] {
    for (const pid of [...this.statePids(), ...this.printedPids()]) this.seenPids.add(pid);
    return [...this.seenPids];
  }

  /** Pids seen earlier that are still alive. */
  leftovers(): number[] {
    return [...this.seenPids].filter(pidAlive);
  }

  /**
   * SIGTERM and wait (SIGKILL after `timeoutMs`); then anything it ran that is
   * still alive is killed by pid. Resolves with what had to be killed that way.
   */
  async stop(timeoutMs = 30_000): Promise<number[]> {
    this.knownPids();
    await terminate(this.child, timeoutMs);
    await this.exited;
    for (const pid of this.printedPids()) this.seenPids.add(pid);
    const left = this.leftovers();
    for (const pid of left) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // gone meanwhile
      }
    }
    this.unlist();
    await rm(this.dataDir, { recursive: true, force: true });
    return left;
  }
}
