import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { endPidsWithThisProcess, freePort, pidAlive } from "../src/process/index.ts";
import { portOpen } from "./helpers/cluster.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));

interface StateFile {
  supervisorPid: number;
  routerPort?: number;
  redisPid?: number;
  instancePids: number[];
}

/** `npm start` exactly as a person types it, on a free port, with a data folder and a Redis of its own. */
class NpmStart {
  output = "";
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  readonly exited: Promise<void>;
  /** Every pid and port the cluster was seen using. */
  readonly pids = new Set<number>();
  readonly ports = new Set<number>();
  private readonly unlist: () => void;

  private constructor(
    readonly npm: ChildProcess,
    readonly port: number,
    readonly dataDir: string,
  ) {
    this.exited = new Promise((resolve) =>
      npm.once("exit", (code, signal) => {
        this.exitInfo = { code, signal };
        resolve();
      }),
    );
    const keep = (chunk: Buffer) => {
      this.output += chunk.toString();
    };
    npm.stdout?.on("data", keep);
    npm.stderr?.on("data", keep);
    if (npm.pid !== undefined) this.pids.add(npm.pid);
    this.ports.add(port);
    // Should this test be ended early, nothing it started outlives it.
    this.unlist = endPidsWithThisProcess(() => [...this.pids].filter(pidAlive));
  }

  static async start(): Promise<NpmStart> {
    const port = await freePort();
    const dataDir = await mkdtemp(join(tmpdir(), "sb-npm-start-"));
    const npm = spawn("npm", ["start"], {
      cwd: ROOT,
      env: {
        ...process.env,
        NODE_ENV: "test",
        LOG_LEVEL: "warn",
        REDIS_URL: "",
        PORT: String(port),
        DATA_DIR: dataDir,
        INSTANCES: "2",
        DRAIN_TIMEOUT_MS: "3000",
        npm_config_update_notifier: "false",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const run = new NpmStart(npm, port, dataDir);
    try {
      await run.waitFor(/Switchboard is running/, 90_000);
      run.readState();
    } catch (error) {
      await run.cleanUp();
      throw error;
    }
    return run;
  }

  get exit() {
    return this.exitInfo;
  }

  async waitFor(pattern: RegExp, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(this.output)) {
      if (this.exitInfo !== undefined) throw new Error(`npm start exited:\n${this.output}`);
      if (Date.now() > deadline) throw new Error(`no ${pattern} in time:\n${this.output}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** The supervisor's own account of what it runs: its pid, Redis's, the instances', the ports. */
  readState(): StateFile {
    const state = JSON.parse(readFileSync(join(this.dataDir, "cluster.json"), "utf8")) as StateFile;
    for (const pid of [state.supervisorPid, state.redisPid, ...state.instancePids]) {
      if (pid !== undefined) this.pids.add(pid);
    }
    for (const match of this.output.matchAll(/port (\d+)/g)) this.ports.add(Number(match[1]));
    for (const match of this.output.matchAll(/redis:\/\/127\.0\.0\.1:(\d+)/g)) {
      this.ports.add(Number(match[1]));
    }
    return state;
  }

  /** Waits until npm has exited (SIGKILL after `timeoutMs`, which fails the test). */
  async waitExit(timeoutMs: number): Promise<boolean> {
    let inTime = true;
    const timer = setTimeout(() => {
      inTime = false;
      this.npm.kill("SIGKILL");
    }, timeoutMs);
    await this.exited;
    clearTimeout(timer);
    return inTime;
  }

  /** Pids still alive and ports still open, after waiting up to `ms` for them to go. */
  async leftovers(ms: number): Promise<{ pids: number[]; ports: number[] }> {
    const deadline = Date.now() + ms;
    for (;;) {
      const pids = [...this.pids].filter(pidAlive);
      const ports: number[] = [];
      for (const port of this.ports) if (await portOpen(port)) ports.push(port);
      if ((pids.length === 0 && ports.length === 0) || Date.now() > deadline) {
        return { pids, ports };
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Kills by pid whatever is left (only processes this run started), and removes the folder. */
  async cleanUp(): Promise<void> {
    for (const pid of [...this.pids].filter(pidAlive)) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // gone meanwhile
      }
    }
    this.unlist();
    await rm(this.dataDir, { recursive: true, force: true });
  }
}

describe("npm start stops cleanly whichever process gets the signal", () => {
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    test(`${signal} to the npm process stops the router, the instances and Redis`, async () => {
      const run = await NpmStart.start();
      try {
        const state = run.readState();
        assert.equal(state.instancePids.length, 2);
        assert.ok(state.redisPid !== undefined, "the cluster runs a Redis of its own");
        assert.ok(await portOpen(run.port), "the router answers");

        assert.ok(run.npm.pid !== undefined);
        process.kill(run.npm.pid, signal);
        assert.ok(await run.waitExit(30_000), `npm exits after ${signal}:\n${run.output}`);
        assert.match(run.output, new RegExp(`${signal}: stopping the router, the instances`));
        assert.match(run.output, /Switchboard stopped/);
        assert.deepEqual(await run.leftovers(3000), { pids: [], ports: [] }, run.output);
      } finally {
        await run.cleanUp();
      }
    });
  }

  test("when npm is killed outright, the supervisor notices and stops everything", async () => {
    const run = await NpmStart.start();
    try {
      assert.ok(run.npm.pid !== undefined);
      // SIGKILL: npm cannot pass anything on.
      process.kill(run.npm.pid, "SIGKILL");
      await run.waitExit(5000);
      assert.deepEqual(await run.leftovers(30_000), { pids: [], ports: [] }, run.output);
      assert.match(run.output, /the process that started this one is gone/);
    } finally {
      await run.cleanUp();
    }
  });
});
