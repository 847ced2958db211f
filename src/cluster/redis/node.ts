import { type ChildProcess, spawn } from "node:child_process";
import { mkdir, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  endWithThisProcess,
  freePort,
  isAlive,
  OutputLog,
  terminate,
} from "../../process/index.ts";
import { waitForPort } from "./server.ts";

export interface RedisNodeOptions {
  /** Write the node's output to `<logDir>/redis-<port>.log` instead of this process's stderr. */
  logDir?: string;
  /**
   * For a supervisor that stops its nodes itself, in order: each node runs in
   * a process group of its own (a terminal's Ctrl-C reaches the supervisor
   * only) and is not ended by this process's SIGTERM (the reaper would cut
   * Redis away from instances that are still draining); it is still killed
   * when this process exits, however it exits.
   */
  supervised?: boolean;
}

/** Supervised nodes still running, killed when this process exits. One listener for them all. */
const supervisedChildren = new Set<ChildProcess>();
let exitHooked = false;

function killOnExit(child: ChildProcess): void {
  if (!exitHooked) {
    exitHooked = true;
    process.once("exit", () => {
      for (const each of supervisedChildren) each.kill("SIGKILL");
    });
  }
  supervisedChildren.add(child);
  child.once("exit", () => supervisedChildren.delete(child));
}

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
    private readonly options: RedisNodeOptions,
  ) {}

  static async start(
    port: number,
    args: string[],
    options: RedisNodeOptions = {},
  ): Promise<RedisNode> {
    const node = new RedisNode(port, RedisNode.spawn(port, args, options), args, options);
    await node.waitListening();
    return node;
  }

  private static spawn(
    port: number,
    args: readonly string[],
    options: RedisNodeOptions,
  ): ChildProcess {
    const logged = options.logDir !== undefined;
    const child = spawn("redis-server", [...args], {
      stdio: logged ? ["ignore", "pipe", "pipe"] : ["ignore", "ignore", "inherit"],
      detached: options.supervised === true,
    });
    child.on("error", () => {});
    if (options.logDir !== undefined) {
      new OutputLog(join(options.logDir, `redis-${port}.log`)).attach(child);
    }
    if (options.supervised === true) killOnExit(child);
    else endWithThisProcess(child);
    return child;
  }

  private async waitListening(): Promise<void> {
    const child = this.child;
    try {
      await waitForPort(this.port, 5000, () => child.exitCode !== null);
    } catch (error) {
      await this.stop("SIGKILL");
      throw error;
    }
  }

  /**
   * After a crash: the same process again, on its port, with its arguments
   * (and so its data folder). Resolves once it listens.
   */
  async restart(): Promise<void> {
    if (this.running) throw new Error(`redis-server on port ${this.port} is running`);
    this.child = RedisNode.spawn(this.port, this.args, this.options);
    await this.waitListening();
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

/**
 * The folder a topology keeps its nodes' files in: `given` (made when
 * missing; the caller's, so the topology leaves it), else a new temporary
 * one that the topology owns and removes.
 */
export async function topologyFolder(
  given: string | undefined,
  prefix: string,
): Promise<{ dir: string; owned: boolean }> {
  if (given === undefined) return { dir: await mkdtemp(join(tmpdir(), prefix)), owned: true };
  await mkdir(given, { recursive: true });
  return { dir: given, owned: false };
}

/**
 * A free port for a data node and its folder in `dir`, with the arguments
 * every data node of a harness's topology starts with: loopback only, no
 * persistence, and a replica's first sync at once instead of 5 s later
 * (Redis waits that long for more replicas to sync them together).
 */
export async function dataNodeArgs(dir: string): Promise<{ port: number; args: string[] }> {
  const port = await freePort();
  const nodeDir = join(dir, String(port));
  await mkdir(nodeDir);
  return {
    port,
    args: [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--dir",
      nodeDir,
      "--save",
      "",
      "--appendonly",
      "no",
      "--repl-diskless-sync-delay",
      "0",
    ],
  };
}
