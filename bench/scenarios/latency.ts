import type { LatencyResult } from "./results.ts";
import { describeStep, type ThroughputRun, throughputStep } from "./throughput.ts";

/**
 * Scenario 2, latency at a fixed load: the clients of the throughput scenario
 * (still connected) send at `sendRate`. The systems take turns in rounds, the
 * order rotating each round, so that a noisy moment of a shared machine falls
 * on all of them alike; each system's figures are those of its median round
 * by p99, and every round's p99 is kept. Every delivery is timed.
 */
export async function runLatencySideBySide(
  runs: ThroughputRun[],
  sendRate: number,
  basis: string,
): Promise<Map<ThroughputRun, LatencyResult>> {
  const settings = runs[0]?.ctx.config.latency;
  const results = new Map<ThroughputRun, LatencyResult>();
  if (settings === undefined) return results;
  const rounds = Math.max(1, settings.rounds);
  const steps = new Map(runs.map((run) => [run, [] as LatencyResult["step"][]]));
  for (let round = 0; round < rounds; round++) {
    const order = runs.map((_r, i) => runs[(i + round) % runs.length] as ThroughputRun);
    for (const run of order) {
      const step = await throughputStep(run, sendRate, settings.durationMs / rounds);
      run.ctx.log(
        `    round ${round + 1}/${rounds}: ${describeStep(run.ctx.label ?? run.ctx.system.name, step)}`,
      );
      steps.get(run)?.push(step);
    }
  }
  for (const [run, list] of steps) {
    const byP99 = [...list].sort((a, b) => a.latency.p99 - b.latency.p99);
    const median = byP99[Math.floor((byP99.length - 1) / 2)];
    if (median === undefined) continue;
    results.set(run, { basis, step: median, roundsP99: list.map((s) => s.latency.p99) });
  }
  return results;
}
