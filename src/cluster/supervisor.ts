import { EventEmitter } from "node:events";
import { describeExit, freePort } from "../process/index.ts";
import type { BackendRegistry } from "../router/index.ts";
import { MAX_INSTANCES } from "./config.ts";
import { type InstanceInfo, InstanceProcess, newInstanceId } from "./instance-process.ts";

export interface SupervisorOptions {
  /** Instances to keep running. */
  instances: number;
  entry: string;
  logDir: string;
  /** Environment every instance shares (where Redis is, SESSION_SECRET...); undefined unsets a variable. */
  env: Record<string, string | undefined>;
  startTimeoutMs: number;
  stopTimeoutMs: number;
  restartDelayMs: number;
  /** Where the supervisor tells what happens, one line at a time. */
  report: (line: string) => void;
  /** Gets each line an instance logs (JSON), with the instance's id; for a terminal's echo. */
  onLogLine?: (id: string, line: string) => void;
}

export type RestartStrategy = "all" | "rolling";

/** Exited instances stay listed this long, so that the dashboard shows what happened. */
const EXITED_VISIBLE_MS = 30_000;
/** A replacement that keeps failing is retried at most this far apart. */
const MAX_RESTART_DELAY_MS = 15_000;

export class OperationError extends Error {
  override name = "OperationError";
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/**
 * Keeps `instances` chat instances running and the router's table in step
 * with them. Like Cloud Foundry, it never restarts a process in place: a
 * crashed or stopped instance is replaced by a new one with a new id on a new
 * port, so that an old affinity cookie really points nowhere.
 *
 * Restarts and scaling run one at a time; kill and stop act at once.
 */
export class Supervisor extends EventEmitter<{ change: [] }> {
  private readonly all: InstanceProcess[] = [];
  private desired: number;
  private shuttingDown = false;
  private reconcileTimer: NodeJS.Timeout | undefined;
  private reconciling = false;
  private failures = 0;
  private operations: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly registry: BackendRegistry,
    private readonly options: SupervisorOptions,
  ) {
    super();
    this.desired = options.instances;
  }

  get desiredInstances(): number {
    return this.desired;
  }

  /**
   * Starts the first instances; rejects if one fails. The ones that did start
   * keep running: the caller's shutdown() stops them.
   */
  async start(): Promise<void> {
    const started = await Promise.allSettled(
      Array.from({ length: this.desired }, () => this.startOne()),
    );
    const failed = started.find((r) => r.status === "rejected");
    if (failed !== undefined) throw failed.reason;
  }

  /** Every instance, the ones that exited lately included. */
  list(): InstanceInfo[] {
    const now = Date.now();
    for (let i = this.all.length - 1; i >= 0; i--) {
      const exitedAt = this.all[i]?.exitedAt;
      if (exitedAt !== undefined && now - exitedAt.getTime() > EXITED_VISIBLE_MS) {
        this.all.splice(i, 1);
      }
    }
    return this.all.map((instance) => instance.info());
  }

  /** Instances that are up or on their way, for the stats poller. */
  live(): InstanceProcess[] {
    return this.all.filter((instance) => instance.state !== "exited");
  }

  /** Pids of every process the supervisor runs, for the state file. */
  pids(): number[] {
    return this.live().flatMap((instance) => (instance.pid === undefined ? [] : [instance.pid]));
  }

  /** SIGKILL, as a crash would: the instance is replaced after the restart delay. */
  kill(id: string): InstanceInfo {
    const instance = this.find(id);
    instance.intent = "kill";
    // The router stops sending it work now rather than after the exit is noticed.
    this.registry.remove(instance.id);
    instance.signal("SIGKILL");
    this.options.report(`instance  ${id}  killed (SIGKILL)`);
    return instance.info();
  }

  /** SIGTERM: the instance drains and exits; a replacement starts at once, to keep the count. */
  stop(id: string): InstanceInfo {
    const instance = this.find(id);
    instance.intent = "stop";
    this.retire(instance);
    this.options.report(`instance  ${id}  stopping (SIGTERM, draining); a new one replaces it`);
    this.scheduleReconcile(0);
    return instance.info();
  }

  restart(strategy: RestartStrategy): Promise<InstanceInfo[]> {
    return this.serialize(async () => {
      this.options.report(`restart   ${strategy === "all" ? "all at once" : "rolling"}`);
      if (strategy === "all") await this.restartAll();
      else await this.restartRolling();
      this.options.report("restart   done");
      return this.list();
    });
  }

  scale(instances: number): Promise<InstanceInfo[]> {
    if (!Number.isInteger(instances) || instances < 1 || instances > MAX_INSTANCES) {
      return Promise.reject(
        new OperationError(`instances must be an integer from 1 to ${MAX_INSTANCES}`, 400),
      );
    }
    return this.serialize(async () => {
      this.options.report(`scale     ${this.desired} -> ${instances}`);
      this.desired = instances;
      const active = this.active();
      if (active.length < instances) {
        try {
          await this.startMany(instances - active.length);
        } catch (error) {
          // The count stays wanted: keep trying, as after a crash.
          this.failures++;
          this.scheduleReconcile(this.restartDelay());
          throw error;
        }
      } else if (active.length > instances) {
        // The newest go first, as Cloud Foundry removes the highest indexes.
        const excess = active.slice(instances);
        await Promise.all(excess.map((instance) => this.retire(instance)));
      }
      this.options.report(`scale     done: ${this.active().length} running`);
      return this.list();
    });
  }

  /** Stops every instance (they drain in parallel) and replaces none. */
  async shutdown(): Promise<void> {
    this.shuttingDown = true;
    clearTimeout(this.reconcileTimer);
    await Promise.all(this.live().map((instance) => this.retire(instance)));
  }

  /** Last resort when the supervisor itself is going down hard: SIGKILL everything now. */
  killAllNow(): void {
    this.shuttingDown = true;
    for (const instance of this.live()) instance.signal("SIGKILL");
  }

  private find(id: string): InstanceProcess {
    const instance = this.all.find((i) => i.id === id && i.state !== "exited");
    if (instance === undefined) throw new OperationError(`no running instance ${id}`, 404);
    return instance;
  }

  /** Instances that count towards the desired number: up or starting, not on their way out. */
  private active(): InstanceProcess[] {
    return this.all.filter(
      (i) => i.state !== "exited" && (i.intent === "none" || i.intent === "kill"),
    );
  }

  private serialize<T>(operation: () => Promise<T>): Promise<T> {
    const next = this.operations.then(() => {
      if (this.shuttingDown) throw new OperationError("the cluster is shutting down", 503);
      return operation();
    });
    this.operations = next.catch(() => {});
    return next;
  }

  private async restartAll(): Promise<void> {
    const old = this.active();
    await this.startMany(this.desired);
    await Promise.all(old.map((instance) => this.retire(instance)));
  }

  private async restartRolling(): Promise<void> {
    for (const old of this.active()) {
      if (this.shuttingDown) return;
      if (old.state === "exited" || old.intent !== "none") continue;
      await this.startMany(1);
      await this.retire(old);
    }
  }

  /** Starts `count` instances; if one fails, the others are stopped and the error is raised. */
  private async startMany(count: number): Promise<InstanceProcess[]> {
    const results = await Promise.allSettled(Array.from({ length: count }, () => this.startOne()));
    const started = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
    const failed = results.find((r) => r.status === "rejected");
    if (failed === undefined) return started;
    await Promise.all(started.map((instance) => this.retire(instance)));
    const reason = failed.reason instanceof Error ? failed.reason.message : String(failed.reason);
    throw new OperationError(reason, 500);
  }

  /** Drain and stop an instance that is not to be replaced. */
  private async retire(instance: InstanceProcess): Promise<void> {
    if (instance.intent === "none" || instance.intent === "kill") instance.intent = "retire";
    this.registry.markDraining(instance.id);
    this.emit("change");
    await instance.stop(this.options.stopTimeoutMs);
  }

  private async startOne(): Promise<InstanceProcess> {
    if (this.shuttingDown) throw new OperationError("the cluster is shutting down", 503);
    const port = await freePort();
    // Checked again: a shutdown that began meanwhile has already collected the live instances.
    if (this.shuttingDown) throw new OperationError("the cluster is shutting down", 503);
    const id = newInstanceId((candidate) => this.all.some((i) => i.id === candidate));
    const instance = InstanceProcess.spawn(id, {
      port,
      entry: this.options.entry,
      logDir: this.options.logDir,
      env: this.options.env,
      onLogLine: (line) => this.options.onLogLine?.(id, line),
    });
    this.all.push(instance);
    void instance.exited.then(() => this.onExit(instance));
    this.emit("change");
    try {
      await instance.waitHealthy(this.options.startTimeoutMs);
    } catch (error) {
      instance.signal("SIGKILL");
      const tail = instance.log.tail().slice(-8);
      const detail = tail.length === 0 ? "" : `\n  last output:\n    ${tail.join("\n    ")}`;
      const message = error instanceof Error ? error.message : String(error);
      throw new Error(`${message}; its log is ${instance.log.path}${detail}`, { cause: error });
    }
    if (!instance.alive || instance.intent !== "none") {
      throw new Error(`instance ${id} was stopped while it started`);
    }
    instance.state = "running";
    instance.wasRunning = true;
    this.registry.add({ id, host: "127.0.0.1", port });
    this.emit("change");
    this.options.report(`instance  ${id}  running on port ${port} (pid ${instance.pid})`);
    return instance;
  }

  private onExit(instance: InstanceProcess): void {
    this.registry.remove(instance.id);
    this.emit("change");
    const how = instance.exitInfo === undefined ? "" : describeExit(instance.exitInfo);
    if (this.shuttingDown) return;
    if (instance.intent === "retire" || instance.intent === "stop") {
      this.options.report(`instance  ${instance.id}  stopped (${how})`);
      return;
    }
    // One that never came up is the business of whoever started it.
    if (!instance.wasRunning) return;
    // With others running, the crashed instance's clients are reconnecting to
    // them, and a start meanwhile would take CPU from that wave: wait. With
    // none running, nobody is served until the replacement is up: start now.
    const othersRunning = this.all.some((i) => i !== instance && i.state === "running");
    const wait = othersRunning || this.failures > 0 ? this.restartDelay() : 0;
    const what = instance.intent === "kill" ? "exited" : "exited unexpectedly";
    this.options.report(`instance  ${instance.id}  ${what} (${how}); replacing it in ${wait} ms`);
    this.scheduleReconcile(wait);
  }

  private restartDelay(): number {
    return Math.min(this.options.restartDelayMs * 2 ** this.failures, MAX_RESTART_DELAY_MS);
  }

  private scheduleReconcile(ms: number): void {
    if (this.shuttingDown || this.reconcileTimer !== undefined) return;
    this.reconcileTimer = setTimeout(() => {
      this.reconcileTimer = undefined;
      void this.reconcile();
    }, ms);
  }

  /** Starts instances until `desired` are up or starting. Never stops any. */
  private async reconcile(): Promise<void> {
    if (this.shuttingDown || this.reconciling) return;
    this.reconciling = true;
    try {
      const missing = this.desired - this.active().length;
      if (missing <= 0) return;
      const results = await Promise.allSettled(
        Array.from({ length: missing }, () => this.startOne()),
      );
      for (const result of results) {
        if (result.status === "fulfilled") this.failures = 0;
        else {
          this.failures++;
          const reason = result.reason instanceof Error ? result.reason.message : result.reason;
          this.options.report(`instance  replacement failed: ${reason}`);
        }
      }
    } finally {
      this.reconciling = false;
    }
    if (this.desired > this.active().length) this.scheduleReconcile(this.restartDelay());
  }
}
