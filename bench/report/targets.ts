import type { BenchReport } from "../scenarios/results.ts";
import { kb, msText, ratio } from "./format.ts";

/**
 * One target, checked against this run's figures. The targets are ratios to
 * the references measured in the same run: on a shared machine the absolute
 * times swing with the host (plain's maximum moved fivefold within hours),
 * the ratios much less.
 */
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
  const ceiling = report.systems.ceiling;
  const checks: TargetCheck[] = [];

  const swRate = sw?.throughput?.best?.deliveredPerSecond;
  const plainRate = plain?.throughput?.best?.deliveredPerSecond;
  checks.push({
    target: "throughput at least 1.2x plain",
    measured: `${ratio(swRate, plainRate)} plain`,
    holds: known(swRate, plainRate) ? (swRate as number) >= 1.2 * (plainRate as number) : undefined,
  });

  // Each system's latency step is its median round.
  const swP99 = sw?.latency?.step.latency.p99;
  const plainP99 = plain?.latency?.step.latency.p99;
  const ceilingP99 = ceiling?.latency?.step.latency.p99;
  checks.push({
    target: "p99 at the fixed load (median round) no worse than plain, at most 1.5x the ceiling",
    measured:
      `${msText(swP99)} ms: ${ratio(swP99, plainP99)} plain (${msText(plainP99)} ms), ` +
      `${ratio(swP99, ceilingP99)} the ceiling (${msText(ceilingP99)} ms)`,
    holds: known(swP99, plainP99, ceilingP99)
      ? (swP99 as number) <= (plainP99 as number) &&
        (swP99 as number) <= 1.5 * (ceilingP99 as number)
      : undefined,
  });

  const heap = sw?.connections?.heapPerConnection;
  const plainHeap = plain?.connections?.heapPerConnection;
  checks.push({
    target: "heap per idle connection at most 0.5x plain",
    measured: `${kb(heap)} KB: ${ratio(heap, plainHeap)} plain (${kb(plainHeap)} KB)`,
    holds: known(heap, plainHeap) ? (heap as number) <= 0.5 * (plainHeap as number) : undefined,
  });

  const storm = sw?.storm;
  const ceilingStorm = ceiling?.storm?.reconnect.p99;
  // The first storm (a warm-up) must lose and duplicate nothing either.
  const first = storm?.warmup;
  const lost = (storm?.lost ?? 0) + (first?.lost ?? 0);
  const duplicates = (storm?.duplicates ?? 0) + (first?.duplicates ?? 0);
  const allBack =
    storm !== undefined &&
    storm.reconnected === storm.affected &&
    (first === undefined || first.reconnected === first.affected);
  checks.push({
    target: "reconnect storm: p99 caught up at most the ceiling's, 0 lost, 0 duplicated",
    measured:
      storm === undefined
        ? "–"
        : `p99 ${msText(storm.reconnect.p99)} ms: ${ratio(storm.reconnect.p99, ceilingStorm)} the ceiling (${msText(ceilingStorm)} ms)` +
          `${first === undefined ? "" : `, first storm ${msText(first.reconnect.p99)} ms`}; ` +
          `${storm.reconnected}/${storm.affected} back, ${lost} lost, ${duplicates} duplicated`,
    holds:
      storm === undefined || !known(storm.reconnect.p99, ceilingStorm)
        ? undefined
        : storm.reconnect.p99 <= (ceilingStorm as number) &&
          allBack &&
          lost === 0 &&
          duplicates === 0,
  });
  return checks;
}
