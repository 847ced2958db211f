import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
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

/** CPU seconds of named groups of processes, sampled now. */
export type CpuSample = Record<string, number>;

export function sampleCpu(groups: Record<string, readonly number[]>): CpuSample {
  const sample: CpuSample = {};
  for (const [name, pids] of Object.entries(groups)) {
    sample[name] = pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
  }
  const machine = machineCpu();
  sample.machineBusy = machine.busy;
  return sample;
}

/** Cores used per group between two samples (1.0 = one core busy). */
export function coresBetween(before: CpuSample, after: CpuSample, seconds: number): CpuSample {
  const cores: CpuSample = {};
  for (const [name, value] of Object.entries(after)) {
    cores[name] = (value - (before[name] ?? Number.NaN)) / seconds;
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
 * Asks a process that runs bench/harness/memory-probe.mjs for its memory
 * (SIGUSR2) and waits for the answer; undefined when it does not come.
 */
export async function probeMemory(
  pid: number,
  probeDir: string,
  timeoutMs = 10_000,
): Promise<ProbedMemory | undefined> {
  const file = join(probeDir, `${pid}.json`);
  rmSync(file, { force: true });
  try {
    process.kill(pid, "SIGUSR2");
  } catch {
    return undefined;
  }
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (existsSync(file)) {
      try {
        return JSON.parse(readFileSync(file, "utf8")) as ProbedMemory;
      } catch {
        // written meanwhile; read again
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return undefined;
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
