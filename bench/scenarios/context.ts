import { setTimeout as sleep } from "node:timers/promises";
import {
  type CpuSample,
  coresBetween,
  foreignCores,
  processTree,
  type SchedTimes,
  sampleCpu,
  waitingBetween,
} from "../harness/proc-stats.ts";
import type { Histogram } from "../load/histogram.ts";
import type { LoadGenerator } from "../load/load-generator.ts";
import { now } from "../load/stamp.ts";
import type { BenchConfig } from "./config.ts";
import {
  type CoresUsed,
  type LatencySummary,
  PERCENTILES_FOR_CURVE,
  type StepResult,
  type WaitingForCores,
} from "./results.ts";
import type { RunningSystem } from "./systems.ts";

/** What a scenario works with. */
export interface ScenarioContext {
  config: BenchConfig;
  system: RunningSystem;
  load: LoadGenerator;
  log: (line: string) => void;
  /** A tag unique to this run, for message stamps. */
  tag: string;
  /** The load generator's group for this system's clients in this scenario. */
  group: string;
  /** What the log calls this system, where two setups of one system run side by side. */
  label?: string;
  /** Set when profiling: where heap snapshots go. */
  profileDir?: string;
}

/**
 * Waits (up to `boundMs`) until the machine is quiet: other work on a small
 * machine skews every figure. Returns the cores that were busy at the end.
 */
export async function waitForQuiet(
  log: (line: string) => void,
  boundMs: number,
  busyCores = 0.3,
): Promise<number> {
  const deadline = now() + boundMs;
  let busy = await foreignCores(1000);
  if (busy > busyCores) log(`  waiting for other work to finish (${busy.toFixed(2)} cores busy)`);
  while (busy > busyCores && now() < deadline) busy = await foreignCores(1000);
  return busy;
}

export { sleep };

export function summarize(histogram: Histogram): LatencySummary {
  return {
    p50: histogram.percentile(50),
    p95: histogram.percentile(95),
    p99: histogram.percentile(99),
    max: histogram.max,
    mean: histogram.mean,
  };
}

export function summarizeValues(values: number[]): LatencySummary {
  if (values.length === 0) {
    return { p50: Number.NaN, p95: Number.NaN, p99: Number.NaN, max: Number.NaN, mean: Number.NaN };
  }
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) =>
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ??
    Number.NaN;
  return {
    p50: at(50),
    p95: at(95),
    p99: at(99),
    max: sorted.at(-1) ?? Number.NaN,
    mean: sorted.reduce((sum, v) => sum + v, 0) / sorted.length,
  };
}

async function cpuGroups(ctx: ScenarioContext): Promise<Record<string, number[]>> {
  const instances = await ctx.system.running();
  const redis = ctx.system.redisPid;
  const router = ctx.system.routerPid;
  return {
    instances: instances.map((i) => i.pid),
    redis: redis === undefined ? [] : [redis],
    router: router === undefined ? [] : [router],
    load: ctx.load.pids,
    // Everything this benchmark runs (the other systems' clusters too), to tell other work apart.
    mine: processTree(process.pid),
  };
}

/**
 * CPU use of every part, and how long each waited for a free core, from now
 * until `stop()`. An instance that starts
 * meanwhile counts from the first `observe()` that sees it running, so that
 * its start-up (loading and compiling its code) is left out.
 */
export async function cpuMeter(ctx: ScenarioContext): Promise<{
  observe: () => Promise<void>;
  stop: () => Promise<{ cores: CoresUsed; waiting: WaitingForCores }>;
}> {
  const before: CpuSample = sampleCpu(await cpuGroups(ctx));
  const started = now();
  return {
    async observe() {
      const seen = sampleCpu(await cpuGroups(ctx));
      for (const [group, pids] of Object.entries(seen.groups)) {
        const known = before.groups[group] ?? new Map<number, number>();
        before.groups[group] = known;
        for (const [pid, seconds] of pids) if (!known.has(pid)) known.set(pid, seconds);
      }
      for (const [group, pids] of Object.entries(seen.sched)) {
        const known = before.sched[group] ?? new Map<number, SchedTimes>();
        before.sched[group] = known;
        for (const [pid, times] of pids) if (!known.has(pid)) known.set(pid, times);
      }
    },
    async stop() {
      const after = sampleCpu(await cpuGroups(ctx));
      const seconds = (now() - started) / 1000;
      const cores = coresBetween(before, after, seconds);
      const waits = waitingBetween(before, after, seconds);
      const unknown = { cores: Number.NaN, perTurnMs: Number.NaN };
      const waiting: WaitingForCores = {
        instances: waits.instances ?? unknown,
        redis: waits.redis ?? unknown,
        router: waits.router ?? unknown,
        load: waits.load ?? unknown,
      };
      const used: CoresUsed = {
        instances: cores.instances ?? Number.NaN,
        redis: cores.redis ?? Number.NaN,
        router: cores.router ?? Number.NaN,
        load: cores.load ?? Number.NaN,
        machine: cores.machineBusy ?? Number.NaN,
        other: Number.NaN,
      };
      used.other = Math.max(0, used.machine - (cores.mine ?? 0));
      return { cores: used, waiting };
    },
  };
}

/** Waits until nothing more arrives for a while (an overloaded step leaves a backlog). */
export async function settle(ctx: ScenarioContext, quietMs = 400, boundMs = 15_000): Promise<void> {
  const deadline = now() + boundMs;
  let last = -1;
  while (now() < deadline) {
    const p = await ctx.load.progress();
    const total = p.unique + p.late;
    if (total === last) return;
    last = total;
    await sleep(quietMs);
  }
}

/** Waits until `expected` deliveries arrived, or `boundMs` passed. */
export async function waitForDeliveries(
  ctx: ScenarioContext,
  expected: number,
  boundMs: number,
): Promise<void> {
  const deadline = now() + boundMs;
  while (now() < deadline) {
    const p = await ctx.load.progress();
    if (p.unique >= expected) return;
    await sleep(25);
  }
}

export interface StepOptions {
  step: number;
  sendRate: number;
  durationMs: number;
  /** Members per room (the sender included: it sees its own message too). */
  members: Map<string, number>;
  p99LimitMs: number;
  drainMs: number;
}

/**
 * One measurement at a fixed offered rate: send for `durationMs`, wait until
 * every member of each room has shown each message (or `drainMs` after the
 * last send), and count. It held when nothing was lost, duplicated or refused
 * and p99 stayed within the limit.
 */
export async function runStep(ctx: ScenarioContext, options: StepOptions): Promise<StepResult> {
  const { load } = ctx;
  await load.begin(ctx.tag, options.step);
  const meter = await cpuMeter(ctx);
  const started = now();
  const count = Math.max(1, Math.round((options.sendRate * options.durationMs) / 1000));
  const sent = await load.send(ctx.group, count, options.durationMs);
  const sendSeconds = Math.max(options.durationMs, now() - started) / 1000;
  let expected = 0;
  for (const [room, n] of Object.entries(sent.sentByRoom)) {
    expected += n * (options.members.get(room) ?? 0);
  }
  await waitForDeliveries(ctx, expected, options.drainMs);
  const { cores, waiting } = await meter.stop();
  const receipts = await load.collect();
  const latency = summarize(receipts.latency);
  const lost = expected - receipts.unique;
  const reasons: string[] = [];
  if (lost > 0) reasons.push(`${lost} lost`);
  if (receipts.duplicates > 0) reasons.push(`${receipts.duplicates} duplicated`);
  if (receipts.sendErrors > 0) reasons.push(`${receipts.sendErrors} refused`);
  if (!(latency.p99 <= options.p99LimitMs)) reasons.push(`p99 ${Math.round(latency.p99)} ms`);
  const membersPerMessage = sent.sent === 0 ? 0 : expected / sent.sent;
  return {
    sendRate: options.sendRate,
    offeredDeliveryRate: options.sendRate * membersPerMessage,
    durationMs: options.durationMs,
    sent: sent.sent,
    expected,
    delivered: receipts.unique,
    lost,
    duplicates: receipts.duplicates,
    late: receipts.late,
    sendErrors: receipts.sendErrors,
    whileDisconnected: sent.whileDisconnected,
    deliveredPerSecond: receipts.unique / sendSeconds,
    latency,
    toServer: summarize(receipts.toServer),
    fromServer: summarize(receipts.fromServer),
    sameInstance: { ...summarize(receipts.sameInstance), deliveries: receipts.sameInstance.count },
    otherInstances: {
      ...summarize(receipts.otherInstances),
      deliveries: receipts.otherInstances.count,
    },
    curve: PERCENTILES_FOR_CURVE.map((p) => [p, receipts.latency.percentile(p)]),
    cores,
    ...(Object.values(waiting).some((w) => Number.isFinite(w.cores)) ? { waiting } : {}),
    senderLagMs: sent.lagMs,
    held: reasons.length === 0,
    reason: reasons.join(", "),
  };
}
