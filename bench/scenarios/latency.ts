import type { LatencyResult } from "./results.ts";
import { describeStep, type ThroughputRun, throughputStep } from "./throughput.ts";

/**
 * Scenario 2, latency at a fixed load: the clients of the throughput scenario
 * (still connected) send at `sendRate` for a while, each system in turn;
 * every delivery is timed.
 */
export async function runLatency(
  run: ThroughputRun,
  sendRate: number,
  basis: string,
): Promise<LatencyResult> {
  const step = await throughputStep(run, sendRate, run.ctx.config.latency.durationMs);
  run.ctx.log(`    ${describeStep(run.ctx.system.name, step)}`);
  return { basis, step };
}
