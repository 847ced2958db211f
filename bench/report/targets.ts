import type { BenchReport } from "../scenarios/results.ts";
import { kb, msText, ratio } from "./format.ts";

/** One target of issue 5, checked against this run's figures. */
export interface TargetCheck {
  target: string;
  measured: string;
  /** undefined when the run lacks a figure it needs. */
  holds: boolean | undefined;
}

function known(...values: (number | undefined)[]): boolean {
  return values.every((v) => v !== undefined && Number.isFinite(v));
}

export function targets(report: BenchReport): TargetCheck[] {
  const sw = report.systems.switchboard;
  const plain = report.systems.plain;
  const checks: TargetCheck[] = [];

  const swRate = sw?.throughput?.best?.deliveredPerSecond;
  const plainRate = plain?.throughput?.best?.deliveredPerSecond;
  checks.push({
    target: "throughput at least 1.0x plain",
    measured: `${ratio(swRate, plainRate)} plain`,
    holds: known(swRate, plainRate) ? (swRate as number) >= (plainRate as number) : undefined,
  });

  const swP99 = sw?.latency?.step.latency.p99;
  const plainP99 = plain?.latency?.step.latency.p99;
  checks.push({
    target: "p99 at the fixed load no worse than plain, and under 50 ms",
    measured: `${msText(swP99)} ms (plain ${msText(plainP99)} ms)`,
    holds: known(swP99, plainP99)
      ? (swP99 as number) <= (plainP99 as number) && (swP99 as number) < 50
      : undefined,
  });

  const heap = sw?.connections?.heapPerConnection;
  checks.push({
    target: "heap per idle connection under 12 KB",
    measured: `${kb(heap)} KB`,
    holds: known(heap) ? (heap as number) < 12 * 1024 : undefined,
  });

  const storm = sw?.storm;
  // The first storm (a warm-up) must lose and duplicate nothing either.
  const first = storm?.warmup;
  const lost = (storm?.lost ?? 0) + (first?.lost ?? 0);
  const duplicates = (storm?.duplicates ?? 0) + (first?.duplicates ?? 0);
  const allBack =
    storm !== undefined &&
    storm.reconnected === storm.affected &&
    (first === undefined || first.reconnected === first.affected);
  checks.push({
    target: "reconnect storm: p99 caught up under 2 s, 0 lost, 0 duplicated",
    measured:
      storm === undefined
        ? "–"
        : `p99 ${msText(storm.reconnect.p99)} ms${first === undefined ? "" : ` (first storm ${msText(first.reconnect.p99)} ms)`}, ` +
          `${storm.reconnected}/${storm.affected} back, ${lost} lost, ${duplicates} duplicated`,
    holds:
      storm === undefined || !known(storm.reconnect.p99)
        ? undefined
        : storm.reconnect.p99 < 2000 && allBack && lost === 0 && duplicates === 0,
  });
  return checks;
}
