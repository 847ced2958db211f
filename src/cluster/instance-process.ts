import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import {
  answers,
  describeExit,
  type ExitInfo,
  exitOf,
  isAlive,
  OutputLog,
  startFailure,
  terminate,
  waitUntil,
} from "../process/index.ts";
import type { InstanceInfo, InstanceState } from "./admin-contract.ts";
import { ROOT } from "./config.ts";

// The admin API's shapes are declared once, in the contract; re-exported for older importers.
export type { InstanceInfo, InstanceState } from "./admin-contract.ts";

/**
 * Why the supervisor is ending an instance, if it is: an instance that exits
 * with no intent (or with "kill", which stands for a crash) is replaced; a
 * stopped one is replaced as soon as the stop is asked for; a retired one
 * (scale down, restart, shutdown) is not replaced.
 */
export type StopIntent = "none" | "kill" | "stop" | "retire";

export interface InstanceSpawnOptions {
  port: number;
  entry: string;
  logDir: string;
  env: Record<string, string | undefined>;
  /** Gets every line the instance writes on stdout (its JSON log), besides its log file. */
  onLogLine?: (line: string) => void;
}

/** A short id that is new for every start: `i-` and 6 hex digits. */
export function newInstanceId(taken: (id: string) => boolean): string {
  for (;;) {
    const id = `i-${randomBytes(3).toString("hex")}`;
    if (!taken(id)) return id;
  }
}

/** One chat instance as a child process, and what the supervisor knows of it. */
export class InstanceProcess {
  state: InstanceState = "starting";
  intent: StopIntent = "none";
  /** Set once it answered /healthz; an instance that never did is not "crashed" when it exits. */
  wasRunning = false;
  sockets = 0;
  messages = 0;
  readonly startedAt = new Date();
  exitedAt: Date | undefined;
  exitInfo: ExitInfo | undefined;
  readonly exited: Promise<ExitInfo>;

  private constructor(
    readonly id: string,
    readonly port: number,
    readonly child: ChildProcess,
    readonly log: OutputLog,
  ) {
    this.exited = exitOf(child).then((info) => {
      this.exitInfo = info;
      this.exitedAt = new Date();
      this.state = "exited";
      return info;
    });
  }

  /**
   * `node <entry>` (with `--import tsx` for a TypeScript entry) with PORT and INSTANCE_ID set. It gets a
   * process group of its own, so that a Ctrl-C in the terminal reaches the
   * supervisor only, which then stops everything in order.
   */
  static spawn(id: string, options: InstanceSpawnOptions): InstanceProcess {
    const args = options.entry.endsWith(".ts")
      ? ["--import", "tsx", options.entry]
      : [options.entry];
    const child = spawn(process.execPath, args, {
      cwd: ROOT,
      env: { ...process.env, ...options.env, PORT: String(options.port), INSTANCE_ID: id },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    child.on("error", () => {});
    const log = new OutputLog(join(options.logDir, `${id}.log`));
    log.attach(child);
    const onLogLine = options.onLogLine;
    if (onLogLine !== undefined) {
      let partial = "";
      child.stdout?.on("data", (chunk: Buffer) => {
        const lines = (partial + chunk.toString("utf8")).split("\n");
        partial = lines.pop() ?? "";
        for (const line of lines) onLogLine(line);
      });
    }
    return new InstanceProcess(id, options.port, child, log);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get alive(): boolean {
    return isAlive(this.child);
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Resolves once /healthz answers 200; rejects when the process exits or time runs out. */
  async waitHealthy(timeoutMs: number): Promise<void> {
    await waitUntil(() => answers(`${this.url}/healthz`), {
      timeoutMs,
      intervalMs: 100,
      what: `instance ${this.id}`,
      gaveUp: () => startFailure(this.child),
    });
  }

  signal(signal: NodeJS.Signals): void {
    if (this.alive) this.child.kill(signal);
  }

  /** SIGTERM (the instance drains), then SIGKILL after `boundMs`; resolves on exit. */
  async stop(boundMs: number): Promise<ExitInfo> {
    if (this.state !== "exited") this.state = "draining";
    await terminate(this.child, boundMs);
    return this.exited;
  }

  info(): InstanceInfo {
    const info: InstanceInfo = {
      id: this.id,
      port: this.port,
      pid: this.pid,
      state: this.state,
      startedAt: this.startedAt.toISOString(),
      sockets: this.state === "exited" ? 0 : this.sockets,
      messages: this.messages,
    };
    if (this.exitedAt !== undefined) info.exitedAt = this.exitedAt.toISOString();
    if (this.exitInfo !== undefined) info.exit = describeExit(this.exitInfo);
    return info;
  }
}
