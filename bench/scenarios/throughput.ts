import type { ClientSpec } from "../load/ipc.ts";
import type { BenchConfig } from "./config.ts";
import { runStep, type ScenarioContext, settle, waitForQuiet } from "./context.ts";
import type { StepResult, ThroughputResult } from "./results.ts";
import { COOKIE_NAME } from "./systems.ts";

/** A failed step during which other work used more cores than this is run again. */
const OTHER_WORK_LIMIT = 0.25;

/** Client i of a scenario: through the router, with a shared login, in room `prefix<i mod rooms>`. */
export function routerClients(
  ctx: ScenarioContext,
  count: number,
  rooms: number,
  prefix: string,
): ClientSpec[] {
  const sessions = ctx.system.sessions;
  return Array.from({ length: count }, (_unused, index) => ({
    system: ctx.system.name,
    group: ctx.group,
    index,
    url: ctx.system.url,
    cookie: { name: COOKIE_NAME, value: sessions[index % sessions.length] ?? "" },
    rooms: [`${prefix}${index % rooms}`],
  }));
}

export function membersOf(clients: ClientSpec[]): Map<string, number> {
  const members = new Map<string, number>();
  for (const client of clients) {
    for (const room of client.rooms) members.set(room, (members.get(room) ?? 0) + 1);
  }
  return members;
}

export function describeStep(system: string, step: StepResult): string {
  const rate = Math.round(step.deliveredPerSecond).toLocaleString("en-US");
  const verdict = step.held ? "held" : `failed: ${step.reason}`;
  return (
    `${system.padEnd(11)} send ${step.sendRate}/s -> delivered ${rate}/s, p50 ${step.latency.p50.toFixed(1)} ms, ` +
    `p99 ${step.latency.p99.toFixed(1)} ms, machine ${step.cores.machine.toFixed(2)} cores, ` +
    `load gen ${step.cores.load.toFixed(2)} (${verdict})`
  );
}

/**
 * The search for the highest send rate that holds: the rate doubles from the
 * start until a step fails, then the gap between the last rate that held
 * and the first that failed is halved `refineSteps` times (a step that holds
 * raises the lower end, one that fails lowers the upper end), so that two
 * systems whose limits differ by a tenth land on different rates.
 */
export class RateSearch {
  readonly steps: StepResult[] = [];
  best: StepResult | undefined;
  firstFailed: StepResult | undefined;
  private readonly queue: number[];
  private phase: "double" | "refine" | "fixed";
  /** While refining: the highest rate that held and the lowest that failed. */
  private held = 0;
  private failed = 0;
  private refinesLeft = 0;

  constructor(private readonly settings: BenchConfig["throughput"]) {
    this.phase = settings.fixedRates === undefined ? "double" : "fixed";
    this.queue =
      settings.fixedRates === undefined ? [settings.startRate] : [...settings.fixedRates];
  }

  /** The next rate to try, or undefined when the search is over. */
  next(): number | undefined {
    return this.queue[0];
  }

  record(result: StepResult): void {
    this.queue.shift();
    this.steps.push(result);
    if (result.held) {
      if (this.best === undefined || result.deliveredPerSecond > this.best.deliveredPerSecond) {
        this.best = result;
      }
    } else {
      this.firstFailed ??= result;
    }
    if (this.phase === "fixed") return;
    if (this.phase === "double") {
      const doubled = result.sendRate * 2;
      if (result.held && doubled <= this.settings.maxRate) {
        this.queue.push(doubled);
        return;
      }
      this.phase = "refine";
      if (result.held || this.best === undefined) return;
      this.held = this.best.sendRate;
      this.failed = result.sendRate;
      this.refinesLeft = this.settings.refineSteps;
    } else if (result.held) {
      this.held = Math.max(this.held, result.sendRate);
    } else {
      this.failed = Math.min(this.failed, result.sendRate);
    }
    const middle = Math.round((this.held + this.failed) / 2);
    if (this.refinesLeft > 0 && middle > this.held && middle < this.failed) {
      this.refinesLeft -= 1;
      this.queue.push(middle);
    }
  }

  result(clients: number, connectedByInstance: Record<string, number>): ThroughputResult {
    return {
      clients,
      rooms: this.settings.rooms,
      connectedByInstance,
      steps: this.steps,
      best: this.best,
      firstFailed: this.firstFailed,
    };
  }
}

/** One system's part in the side-by-side throughput scenario. */
export interface ThroughputRun {
  ctx: ScenarioContext;
  clients: ClientSpec[];
  members: Map<string, number>;
  connectedByInstance: Record<string, number>;
  search: RateSearch;
  steps: number;
}

/** Connects a system's clients for the throughput and latency scenarios. */
export async function connectThroughputClients(ctx: ScenarioContext): Promise<ThroughputRun> {
  const settings = ctx.config.throughput;
  const clients = routerClients(ctx, settings.clients, settings.rooms, "r");
  const connect = await ctx.load.connect(clients, { concurrency: 100, timeoutMs: 60_000 });
  if (connect.failed > 0) {
    throw new Error(`${connect.failed} clients did not connect: ${connect.errors.join("; ")}`);
  }
  ctx.log(
    `  ${ctx.system.name}: ${connect.connected} clients connected in ${(connect.durationMs / 1000).toFixed(1)} s ` +
      `(${Object.values(connect.byInstance).join(" / ")} per instance)`,
  );
  return {
    ctx,
    clients,
    members: membersOf(clients),
    connectedByInstance: connect.byInstance,
    search: new RateSearch(settings),
    steps: 0,
  };
}

/** One step of one system at a rate (a second try when other work disturbed a failure). */
export async function throughputStep(
  run: ThroughputRun,
  sendRate: number,
  durationMs = run.ctx.config.throughput.stepMs,
): Promise<StepResult> {
  const { ctx } = run;
  const settings = ctx.config.throughput;
  const once = async () => {
    await settle(ctx);
    return runStep(ctx, {
      step: run.steps++,
      sendRate,
      durationMs,
      members: run.members,
      p99LimitMs: settings.p99LimitMs,
      drainMs: settings.drainMs,
    });
  };
  let result = await once();
  const quietWait = ctx.config.quietWaitMs;
  if (!result.held && quietWait > 0 && result.cores.other > OTHER_WORK_LIMIT) {
    ctx.log(
      `    ${describeStep(ctx.system.name, result)}; ${result.cores.other.toFixed(2)} cores of other work: once more`,
    );
    await waitForQuiet(ctx.log, quietWait);
    result = await once();
  }
  return result;
}

/**
 * Scenario 1, fan-out throughput, side by side: every system searches for its
 * highest rate that holds, and the systems take turns step by step (the
 * order rotating each round), so that whatever else the machine does at a
 * moment falls on all of them alike. Each system's clients stay connected
 * for the latency scenario.
 */
export async function runThroughputSideBySide(runs: ThroughputRun[]): Promise<void> {
  const settings = runs[0]?.ctx.config.throughput;
  if (settings === undefined) return;
  if (settings.warmupMs > 0) {
    for (const run of runs) await throughputStep(run, settings.startRate / 2, settings.warmupMs);
  }
  for (let round = 0; ; round++) {
    const pending = runs.filter((run) => run.search.next() !== undefined);
    if (pending.length === 0) return;
    const order = pending.map((_r, i) => pending[(i + round) % pending.length] as ThroughputRun);
    for (const run of order) {
      const rate = run.search.next();
      if (rate === undefined) continue;
      const result = await throughputStep(run, rate);
      run.search.record(result);
      run.ctx.log(`    ${describeStep(run.ctx.system.name, result)}`);
    }
  }
}
