import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import type {
  ChildMessage,
  ClientSpec,
  ConnectResult,
  Progress,
  Replies,
  SendResult,
  StormClient,
  WorkerRequest,
} from "./ipc.ts";
import { Tally } from "./tally.ts";

const WORKER_ENTRY = fileURLToPath(new URL("./worker.ts", import.meta.url));

/**
 * The load generator: clients spread over several worker processes (forked
 * with tsx), so that sending and receiving are not held up by one event loop.
 * Clients are handed out in contiguous blocks, so that every worker has
 * clients of every room. `stop()` ends every worker by pid, even if they hang.
 */
export class LoadGenerator {
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { resolve: (value: unknown) => void; reject: (error: Error) => void }
  >();

  private constructor(private readonly workers: ChildProcess[]) {
    for (const worker of workers) {
      worker.on("message", (message: ChildMessage) => {
        const waiting = this.pending.get(message.id);
        if (waiting === undefined) return;
        this.pending.delete(message.id);
        if (message.ok) waiting.resolve(message.result);
        else waiting.reject(new Error(message.error));
      });
      worker.on("exit", (code, signal) => {
        for (const [id, waiting] of this.pending) {
          this.pending.delete(id);
          waiting.reject(new Error(`a load worker exited (${code ?? signal})`));
        }
      });
    }
  }

  static async start(count: number): Promise<LoadGenerator> {
    const workers = Array.from({ length: count }, (_unused, i) =>
      fork(WORKER_ENTRY, [], {
        execArgv: ["--import", "tsx"],
        env: { ...process.env, SB_BENCH_WORKER: String(i), NODE_OPTIONS: "" },
        stdio: ["ignore", "inherit", "inherit", "ipc"],
      }),
    );
    const generator = new LoadGenerator(workers);
    try {
      // A first round trip proves each worker is up.
      await generator.everyone({ kind: "progress" });
    } catch (error) {
      generator.stop();
      throw error;
    }
    return generator;
  }

  get pids(): number[] {
    return this.workers.flatMap((worker) => (worker.pid === undefined ? [] : [worker.pid]));
  }

  get size(): number {
    return this.workers.length;
  }

  private ask<K extends WorkerRequest["kind"]>(
    worker: ChildProcess,
    request: Extract<WorkerRequest, { kind: K }>,
  ): Promise<Replies[K]> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      worker.send({ id, request }, (error) => {
        if (error === null) return;
        this.pending.delete(id);
        reject(error);
      });
    });
  }

  private everyone<K extends WorkerRequest["kind"]>(
    request: Extract<WorkerRequest, { kind: K }>,
  ): Promise<Replies[K][]> {
    return Promise.all(this.workers.map((worker) => this.ask(worker, request)));
  }

  /** Connects the clients (split over the workers); resolves when each connected or gave up. */
  async connect(
    clients: ClientSpec[],
    options: { concurrency: number; timeoutMs: number },
  ): Promise<ConnectResult> {
    const n = this.workers.length;
    const results = await Promise.all(
      this.workers.map((worker, w) => {
        const share = clients.slice(
          Math.floor((w * clients.length) / n),
          Math.floor(((w + 1) * clients.length) / n),
        );
        return this.ask(worker, {
          kind: "connect",
          clients: share,
          concurrency: Math.max(1, Math.ceil(options.concurrency / n)),
          timeoutMs: options.timeoutMs,
        });
      }),
    );
    const total: ConnectResult = {
      connected: 0,
      failed: 0,
      errors: [],
      durationMs: 0,
      byInstance: {},
    };
    for (const result of results) {
      total.connected += result.connected;
      total.failed += result.failed;
      total.errors.push(...result.errors);
      total.durationMs = Math.max(total.durationMs, result.durationMs);
      for (const [id, count] of Object.entries(result.byInstance)) {
        total.byInstance[id] = (total.byInstance[id] ?? 0) + count;
      }
    }
    return total;
  }

  async begin(tag: string, step: number): Promise<void> {
    await this.everyone({ kind: "begin", tag, step });
  }

  /** Sends `count` messages in all from the group, spread over the workers and over `durationMs`. */
  async send(group: string, count: number, durationMs: number): Promise<SendResult> {
    const n = this.workers.length;
    const results = await Promise.all(
      this.workers.map((worker, w) => {
        const share = Math.floor(((w + 1) * count) / n) - Math.floor((w * count) / n);
        return this.ask(worker, { kind: "send", group, count: share, durationMs });
      }),
    );
    const total: SendResult = { sent: 0, sentByRoom: {}, whileDisconnected: 0, lagMs: 0 };
    for (const result of results) {
      total.sent += result.sent;
      total.whileDisconnected += result.whileDisconnected;
      total.lagMs = Math.max(total.lagMs, result.lagMs);
      for (const [room, sent] of Object.entries(result.sentByRoom)) {
        total.sentByRoom[room] = (total.sentByRoom[room] ?? 0) + sent;
      }
    }
    return total;
  }

  async progress(): Promise<Progress> {
    const all = await this.everyone({ kind: "progress" });
    return {
      unique: all.reduce((sum, p) => sum + p.unique, 0),
      late: all.reduce((sum, p) => sum + p.late, 0),
      connected: all.reduce((sum, p) => sum + p.connected, 0),
    };
  }

  async collect(): Promise<Tally> {
    const total = new Tally();
    for (const r of await this.everyone({ kind: "collect" })) total.add(r);
    return total;
  }

  async watch(): Promise<void> {
    await this.everyone({ kind: "watch" });
  }

  async storm(group: string): Promise<StormClient[]> {
    return (await this.everyone({ kind: "storm", group })).flat();
  }

  /** Closes the group's clients, or every client (the workers stay, for the next scenario). */
  async closeClients(group?: string): Promise<void> {
    await this.everyone(group === undefined ? { kind: "close" } : { kind: "close", group });
  }

  /** Ends the workers; safe to call twice. */
  stop(): void {
    for (const worker of this.workers) {
      if (worker.exitCode === null && worker.signalCode === null && worker.pid !== undefined) {
        try {
          process.kill(worker.pid, "SIGKILL");
        } catch {
          // gone meanwhile
        }
      }
    }
  }
}
