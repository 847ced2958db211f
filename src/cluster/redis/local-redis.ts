import { type ChildProcess, spawn } from "node:child_process";
import { constants } from "node:fs";
import { access, mkdir } from "node:fs/promises";
import { delimiter, join } from "node:path";
import {
  freePort,
  isAlive,
  OutputLog,
  portAccepts,
  startFailure,
  terminate,
  waitUntil,
} from "../../process/index.ts";

/** What a person needs to read when there is no Redis to use. */
export const REDIS_MISSING_MESSAGE = `Switchboard needs Redis 7 and found no redis-server on PATH, and no REDIS_URL.

Install Redis 7, then run npm start again:
  Debian/Ubuntu:  sudo apt-get install redis-server
  macOS:          brew install redis

Or use a Redis you already have:
  REDIS_URL=redis://host:6379 npm start
`;

export class RedisNotFoundError extends Error {
  override name = "RedisNotFoundError";
  constructor() {
    super(REDIS_MISSING_MESSAGE);
  }
}

/** The first executable `redis-server` on PATH. */
export async function findRedisServer(path = process.env.PATH ?? ""): Promise<string | undefined> {
  for (const dir of path.split(delimiter)) {
    if (dir === "") continue;
    const candidate = join(dir, "redis-server");
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this folder
    }
  }
  return undefined;
}

/**
 * The supervisor's own redis-server: loopback only, on a free port, with its
 * data in `<dataDir>/redis` and append-only persistence, so that sessions and
 * history survive a restart of the whole cluster (and a `restart()` after a
 * kill finds its data again).
 */
export class RedisProcess {
  private child: ChildProcess;
  private log: OutputLog;

  private constructor(
    private readonly binary: string,
    private readonly args: readonly string[],
    private readonly logPath: string,
    readonly port: number,
    readonly dir: string,
  ) {
    [this.child, this.log] = this.spawn();
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return isAlive(this.child);
  }

  /**
   * Spawns it and hands it to `adopt` at once (so that a shutdown during the
   * start can stop it), then waits until it accepts connections.
   */
  static async start(
    options: { dataDir: string; timeoutMs?: number },
    adopt: (redis: RedisProcess) => void,
  ): Promise<RedisProcess> {
    const binary = await findRedisServer();
    if (binary === undefined) throw new RedisNotFoundError();
    const dir = join(options.dataDir, "redis");
    const logs = join(options.dataDir, "logs");
    await mkdir(dir, { recursive: true });
    await mkdir(logs, { recursive: true });
    const port = await freePort();
    const args = ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir];
    args.push("--appendonly", "yes", "--daemonize", "no", "--logfile", "");
    const redis = new RedisProcess(binary, args, join(logs, "redis.log"), port, dir);
    adopt(redis);
    await redis.waitListening(options.timeoutMs ?? 10_000);
    return redis;
  }

  /** After a kill: the same server again, on its port and with its data. */
  async restart(timeoutMs = 10_000): Promise<void> {
    if (this.running) throw new Error(`redis-server on port ${this.port} is running`);
    [this.child, this.log] = this.spawn();
    await this.waitListening(timeoutMs);
  }

  /** SIGTERM (Redis flushes its append-only file), SIGKILL after the bound; or SIGKILL, a crash. */
  async stop(signal: NodeJS.Signals = "SIGTERM", boundMs = 5000): Promise<void> {
    await terminate(this.child, boundMs, signal);
  }

  /** A process group of its own: a terminal's Ctrl-C reaches the supervisor, which stops it last. */
  private spawn(): [ChildProcess, OutputLog] {
    const child = spawn(this.binary, [...this.args], {
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    const log = new OutputLog(this.logPath);
    log.attach(child);
    child.on("error", () => {});
    return [child, log];
  }

  private async waitListening(timeoutMs: number): Promise<void> {
    const { child, log } = this;
    await waitUntil(() => portAccepts(this.port), {
      timeoutMs,
      what: "redis-server",
      gaveUp: () => {
        const gone = startFailure(child);
        return gone === undefined ? undefined : `${gone}:\n  ${log.tail().join("\n  ")}`;
      },
    });
  }
}
