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
    private child: ChildProcess,
    private readonly args: readonly string[],
  ) {}

  static async start(port: number, args: string[]): Promise<RedisNode> {
    const node = new RedisNode(port, RedisNode.spawn(args), args);
    await node.listening();
    return node;
  }

  private static spawn(args: readonly string[]): ChildProcess {
    const child = spawn("redis-server", args, { stdio: ["ignore", "ignore", "inherit"] });
    endWithThisProcess(child);
    return child;
  }

  private async listening(): Promise<void> {
    const child = this.child;
    try {
      await waitForPort(this.port, 5000, () => child.exitCode !== null);
    } catch (error) {
      await this.stop("SIGKILL");
      throw error;
    }
  }

  /**
   * Starts a stopped node again, on its port, with its arguments and its
   * folder (a Cluster node finds its nodes.conf and rejoins; a Sentinel's old
   * master is turned into a replica by the Sentinels), as an operator
   * bringing a crashed machine back would.
   */
  async restart(): Promise<void> {
    if (this.running) throw new Error(`the Redis node on port ${this.port} still runs`);
    this.child = RedisNode.spawn(this.args);
    await this.listening();
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
