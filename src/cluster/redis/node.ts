import { type ChildProcess, spawn } from "node:child_process";
import { endWithThisProcess, isAlive, terminate } from "../../process/index.ts";
import { waitForPort } from "./server.ts";

/**
 * One `redis-server` process (a data node or a Sentinel) of a topology that
 * a harness builds: started on a given port, listening when `start`
 * resolves, and killed by its own pid.
 */
export class RedisNode {
  private constructor(
    readonly port: number,
    private readonly child: ChildProcess,
  ) {}

  static async start(port: number, args: string[]): Promise<RedisNode> {
    const child = spawn("redis-server", args, { stdio: ["ignore", "ignore", "inherit"] });
    endWithThisProcess(child);
    const node = new RedisNode(port, child);
    try {
      await waitForPort(port, 5000, () => child.exitCode !== null);
    } catch (error) {
      await node.stop("SIGKILL");
      throw error;
    }
    return node;
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

  /** Sends the signal (SIGKILL: a crash) and waits until the process is gone. */
  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    await terminate(this.child, 5000, signal);
  }
}
