import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import {
  answers,
  endWithThisProcess,
  freePort,
  startFailure,
  terminate,
  waitUntil,
} from "../../src/process/index.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/**
 * One chat instance as its own process (`npm run instance` without the build
 * step), on a free port. Output goes to the test's stderr only when
 * SB_TEST_LOGS is set, to keep test output readable.
 */
export class TestInstance {
  readonly logs: string[] = [];

  private constructor(
    readonly id: string,
    readonly port: number,
    readonly child: ChildProcess,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  static async start(env: Record<string, string>): Promise<TestInstance> {
    const port = await freePort();
    const id = env.INSTANCE_ID ?? `t-${port}`;
    const child = spawn(process.execPath, ["--import", "tsx", "src/server/main.ts"], {
      cwd: ROOT,
      env: {
        ...process.env,
        NODE_ENV: "test",
        LOG_LEVEL: process.env.SB_TEST_LOGS ? "debug" : "warn",
        PORT: String(port),
        INSTANCE_ID: id,
        ...env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    endWithThisProcess(child);
    const instance = new TestInstance(id, port, child);
    const keep = (chunk: Buffer) => {
      instance.logs.push(chunk.toString());
      if (process.env.SB_TEST_LOGS) process.stderr.write(chunk);
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    try {
      // As long as the supervisor gives one (START_TIMEOUT_MS): an instance runs its
      // TypeScript through tsx, and on two cores shared with other test runs (load
      // average above 20) that alone took longer than 15 s before its first log line.
      await instance.waitHealthy(30_000);
    } catch (error) {
      child.kill("SIGKILL");
      throw new Error(`instance ${id} did not start in 30 s: ${instance.logs.join("")}`, {
        cause: error,
      });
    }
    return instance;
  }

  private waitHealthy(timeoutMs: number): Promise<void> {
    return waitUntil(() => answers(`${this.url}/healthz`), {
      timeoutMs,
      what: `instance ${this.id}`,
      gaveUp: () => startFailure(this.child),
    });
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Sends the signal and waits for the exit; resolves with the exit code. */
  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<number | null> {
    return (await terminate(this.child, 15_000, signal)).code;
  }
}

/**
 * Starts the instances together. When one fails to start, the ones that did
 * are stopped before the error is raised, so that nothing outlives the test.
 */
export async function startInstances(envs: Record<string, string>[]): Promise<TestInstance[]> {
  const started = await Promise.allSettled(envs.map((env) => TestInstance.start(env)));
  const failed = started.find((result) => result.status === "rejected");
  if (failed === undefined) {
    return started.map((result) => (result as PromiseFulfilledResult<TestInstance>).value);
  }
  await Promise.all(
    started.map((result) => (result.status === "fulfilled" ? result.value.stop("SIGKILL") : null)),
  );
  throw failed.reason;
}
