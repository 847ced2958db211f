import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  endWithThisProcess,
  freePort,
  portAccepts,
  terminate,
  waitUntil,
} from "../../process/index.ts";

/**
 * A real `redis-server` of our own, on a free port, in a temporary folder,
 * for tests, the chaos run and the benchmark. `restart()` stops and starts it
 * on the same port with the same data (append-only file on), as an
 * operator's restart would.
 */
export class RedisServer {
  readonly port: number;
  readonly dir: string;
  private child: ChildProcess | undefined;

  private constructor(port: number, dir: string) {
    this.port = port;
    this.dir = dir;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** The server's pid while it runs. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  static async start(options: { persistence?: boolean } = {}): Promise<RedisServer> {
    const dir = await mkdtemp(join(tmpdir(), "sb-redis-"));
    const redis = new RedisServer(await freePort(), dir);
    redis.persistence = options.persistence ?? true;
    await redis.spawn();
    return redis;
  }

  private persistence = true;

  private async spawn(): Promise<void> {
    const args = [
      "--port",
      String(this.port),
      "--bind",
      "127.0.0.1",
      "--dir",
      this.dir,
      "--save",
      "",
      "--appendonly",
      this.persistence ? "yes" : "no",
      "--appendfsync",
      "always",
    ];
    const child = spawn("redis-server", args, { stdio: ["ignore", "ignore", "inherit"] });
    endWithThisProcess(child);
    this.child = child;
    await waitForPort(this.port, 5000, () => child.exitCode !== null);
  }

  /** SIGKILL or SIGTERM the server and wait for it to go. */
  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child !== undefined) await terminate(child, 5000, signal);
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.spawn();
  }

  /** Stop the server and remove its folder. Safe to call twice. */
  async close(): Promise<void> {
    await this.stop("SIGKILL");
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** Resolve once something accepts TCP connections on the port. */
export async function waitForPort(
  port: number,
  timeoutMs: number,
  gaveUp: () => boolean = () => false,
): Promise<void> {
  await waitUntil(() => portAccepts(port), {
    timeoutMs,
    intervalMs: 25,
    what: `the process for port ${port}`,
    gaveUp: () => (gaveUp() ? "exited before listening" : undefined),
  });
}
