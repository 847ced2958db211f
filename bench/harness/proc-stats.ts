import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";

/**
 * What Linux says about processes the benchmark did not write itself (the
 * instances, Redis, the router), read from /proc. Elsewhere every figure is
 * NaN and the report says "–".
 */

/** Clock ticks per second of /proc/<pid>/stat; 100 on every Linux we run on. */
const TICKS_PER_SECOND = 100;

/** CPU time a process has used so far (user + system), in seconds; NaN when unknown. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name may hold spaces; the fields we want follow its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return (utime + stime) / TICKS_PER_SECOND;
  } catch {
    return Number.NaN;
  }
}

/** Resident set size in bytes (VmRSS); NaN when unknown. */
export function rssBytes(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const match = /^VmRSS:\s+(\d+) kB/m.exec(status);
    return match?.[1] === undefined ? Number.NaN : Number(match[1]) * 1024;
  } catch {
    return Number.NaN;
  }
}

/** Busy and total CPU time of the whole machine so far, in seconds. */
export function machineCpu(): { busy: number; total: number } {
  try {
    const line = readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "";
    const values = line.trim().split(/\s+/).slice(1).map(Number);
    const total = values.reduce((sum, v) => sum + v, 0);
    const idle = (values[3] ?? 0) + (values[4] ?? 0);
    return { busy: (total - idle) / TICKS_PER_SECOND, total: total / TICKS_PER_SECOND };
  } catch {
    return { busy: Number.NaN, total: Number.NaN };
  }
}

/** The process and every process below it (children, grandchildren...), from /proc. */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  let entries: string[] = [];
  try {
    entries = readdirSync("/proc").filter((name) => /^\d+$/.test(name));
  } catch {
    return [root];
  }
  for (const name of entries) {
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(name));
      children.set(ppid, list);
    } catch {
      // gone meanwhile
    }
  }
  const tree: number[] = [];
  const queue = [root];
  for (let pid = queue.shift(); pid !== undefined; pid = queue.shift()) {
    tree.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return tree;
}

/**
 * Cores busy over `ms` with work that is not this process or anything it
 * started (other programs on the machine).
 */
export async function foreignCores(ms: number): Promise<number> {
  const mine = () => processTree(process.pid).reduce((sum, pid) => sum + (cpuSeconds(pid) || 0), 0);
  const machineBefore = machineCpu().busy;
  const mineBefore = mine();
  const started = performance.now();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const seconds = (performance.now() - started) / 1000;
  const busy = (machineCpu().busy - machineBefore) / seconds;
  return Math.max(0, busy - (mine() - mineBefore) / seconds);
}

/**
 * What the scheduler says about a process's main thread (for Node and Redis,
 * the event loop) so far, from /proc/<pid>/schedstat: seconds on a core,
 * seconds ready to run but waiting for a free core, and turns on a core.
 * Undefined when unknown.
 */
export interface SchedTimes {
  run: number;
  wait: number;
  turns: number;
}

export function schedTimes(pid: number): SchedTimes | undefined {
  try {
    const [run, wait, turns] = readFileSync(`/proc/${pid}/schedstat`, "utf8").trim().split(" ");
    const times = { run: Number(run) / 1e9, wait: Number(wait) / 1e9, turns: Number(turns) };
    return Object.values(times).every(Number.isFinite) ? times : undefined;
  } catch {
    return undefined;
  }
}

/** CPU seconds (and scheduler times) of each process of named groups, and of the whole machine, sampled now. */
export interface CpuSample {
  groups: Record<string, Map<number, number>>;
  sched: Record<string, Map<number, SchedTimes>>;
  machineBusy: number;
}

export function sampleCpu(groups: Record<string, readonly number[]>): CpuSample {
  const sample: CpuSample = { groups: {}, sched: {}, machineBusy: machineCpu().busy };
  for (const [name, pids] of Object.entries(groups)) {
    const seconds = new Map<number, number>();
    const sched = new Map<number, SchedTimes>();
    for (const pid of pids) {
      const value = cpuSeconds(pid);
      if (!Number.isNaN(value)) seconds.set(pid, value);
      const times = schedTimes(pid);
      if (times !== undefined) sched.set(pid, times);
    }
    sample.groups[name] = seconds;
    sample.sched[name] = sched;
  }
  return sample;
}

/** How long a group's main threads waited for a free core. */
export interface CoreWait {
  /** Waiting time per second (1.0 = one thread waiting all along). */
  cores: number;
  /** Mean wait before a turn on a core, in ms. */
  perTurnMs: number;
}

/**
 * Per group between two samples: how long its processes' main threads were
 * ready to run but every core was taken. Processes seen only in `after`
 * count nothing (their start-up is not what a step measures).
 */
export function waitingBetween(
  before: CpuSample,
  after: CpuSample,
  seconds: number,
): Record<string, CoreWait> {
  const waits: Record<string, CoreWait> = {};
  for (const [name, pids] of Object.entries(after.sched)) {
    let wait = 0;
    let turns = 0;
    let known = false;
    for (const [pid, times] of pids) {
      const start = before.sched[name]?.get(pid);
      if (start === undefined) continue;
      known = true;
      wait += times.wait - start.wait;
      turns += times.turns - start.turns;
    }
    waits[name] = known
      ? { cores: wait / seconds, perTurnMs: turns === 0 ? 0 : (wait * 1000) / turns }
      : { cores: Number.NaN, perTurnMs: Number.NaN };
  }
  return waits;
}

/**
 * Cores used per group between two samples (1.0 = one core busy), and by the
 * whole machine as `machineBusy`. A process that ended meanwhile counts
 * nothing after the first sample; one that started meanwhile counts all it
 * used since it started.
 */
export function coresBetween(
  before: CpuSample,
  after: CpuSample,
  seconds: number,
): Record<string, number> {
  const cores: Record<string, number> = {
    machineBusy: (after.machineBusy - before.machineBusy) / seconds,
  };
  for (const [name, pids] of Object.entries(after.groups)) {
    let used = 0;
    for (const [pid, value] of pids) used += value - (before.groups[name]?.get(pid) ?? 0);
    cores[name] = used / seconds;
  }
  return cores;
}

/** Heap and RSS of a process, after a garbage collection, from the memory probe. */
export interface ProbedMemory {
  heapUsed: number;
  heapTotal: number;
  rss: number;
  external: number;
  arrayBuffers: number;
}

/**
 * Sends a command to a process that runs bench/harness/memory-probe.mjs
 * (SIGUSR2 after writing `<pid>.cmd`) and waits for its answer in
 * `<pid>.json`; undefined when none comes in time.
 */
async function askProbe(
  pid: number,
  probeDir: string,
  command: string,
  timeoutMs: number,
): Promise<unknown> {
  const file = join(probeDir, `${pid}.json`);
  rmSync(file, { force: true });
  writeFileSync(join(probeDir, `${pid}.cmd`), command);
  try {
    process.kill(pid, "SIGUSR2");
  } catch {
    return undefined;
  }
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (existsSync(file)) {
      try {
        return JSON.parse(readFileSync(file, "utf8")) as unknown;
      } catch {
        // written meanwhile; read again
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return undefined;
}

/** Heap and RSS after a full GC; with `snapshot`, a heap snapshot is written there first. */
export async function probeMemory(
  pid: number,
  probeDir: string,
  snapshot?: string,
): Promise<ProbedMemory | undefined> {
  const command = snapshot === undefined ? "memory" : `memory ${snapshot}`;
  return (await askProbe(pid, probeDir, command, 120_000)) as ProbedMemory | undefined;
}

/** What the probe's `stats` answers: memory after a full GC, handles, event-loop delay (ms). */
export interface ProbedStats extends ProbedMemory {
  handles: number;
  lag: { p50: number; p99: number; max: number };
}

/** Memory after a full GC, active handles, and the event loop's delay since the last call. */
export async function probeStats(
  pid: number,
  probeDir: string,
  timeoutMs = 10_000,
): Promise<ProbedStats | undefined> {
  return (await askProbe(pid, probeDir, "stats", timeoutMs)) as ProbedStats | undefined;
}

export async function startCpuProfile(pid: number, probeDir: string): Promise<void> {
  await askProbe(pid, probeDir, "cpu-start", 10_000);
}

/** Stops the profiler and writes its profile to `path` (a `.cpuprofile`). */
export async function stopCpuProfile(pid: number, probeDir: string, path: string): Promise<void> {
  await askProbe(pid, probeDir, `cpu-stop ${path}`, 60_000);
}

/**
 * The commit the systems ran from (`git describe --always --dirty`), or
 * SB_BENCH_COMMIT when set (a run from an exported tree has no .git).
 */
export function sourceCommit(cwd: string): string {
  const given = process.env.SB_BENCH_COMMIT;
  if (given !== undefined && given !== "") return given;
  try {
    return execFileSync("git", ["describe", "--always", "--dirty"], {
      cwd,
      encoding: "utf8",
    }).trim();
  } catch {
    return "unknown";
  }
}

/** The machine a report was measured on. */
export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  node: string;
  redis: string;
  os: string;
}

export function machineInfo(): MachineInfo {
  let redis = "unknown";
  try {
    const out = execFileSync("redis-server", ["--version"], { encoding: "utf8" });
    redis = /v=(\S+)/.exec(out)?.[1] ?? out.trim();
  } catch {
    // no redis-server on PATH
  }
  let os = `${process.platform} ${process.arch}`;
  try {
    const release = readFileSync("/etc/os-release", "utf8");
    os = /^PRETTY_NAME="?([^"\n]+)"?/m.exec(release)?.[1] ?? os;
  } catch {
    // not Linux
  }
  return {
    cpuModel: cpus()[0]?.model ?? "unknown",
    cores: cpus().length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    redis,
    os,
  };
}
