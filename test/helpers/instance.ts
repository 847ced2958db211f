import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { endWithThisProcess } from "../../bench/harness/reaper.ts";
import { freePort } from "./ports.ts";

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
      await instance.waitHealthy(15_000);
    } catch (error) {
      child.kill("SIGKILL");
      throw new Error(`instance ${id} did not start: ${instance.logs.join("")}`, { cause: error });
    }
    return instance;
  }

  private async waitHealthy(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.child.exitCode !== null) throw new Error(`exited with ${this.child.exitCode}`);
      try {
        const res = await fetch(`${this.url}/healthz`);
        if (res.ok) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error("timed out");
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Sends the signal and waits for the exit; resolves with the exit code. */
  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<number | null> {
    if (!this.running) return this.child.exitCode;
    const exited = new Promise<number | null>((resolve) =>
      this.child.once("exit", (code) => resolve(code)),
    );
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 15_000);
    try {
      return await exited;
    } finally {
      clearTimeout(timer);
    }
  }
}
