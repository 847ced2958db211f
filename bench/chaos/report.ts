import { ms } from "../harness/stats.ts";
import type { StepResult } from "./run-chaos.ts";

/** The chaos table in Markdown: one row per step. */
export function chaosTable(results: readonly StepResult[]): string {
  const header =
    "| step | clients affected | reconnect p50 (ms) | p99 (ms) | max (ms) | lost | duplicates | unsent | stored twice | out of order | taken back | Redis back (ms) | sends back (ms) | settled |";
  const rule =
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |";
  const rows = results.map((r) =>
    [
      r.step,
      r.clientsAffected,
      ms(r.reconnectP50),
      ms(r.reconnectP99),
      ms(r.reconnectMax),
      r.lost,
      r.duplicates,
      r.undelivered,
      r.storedTwice,
      r.outOfOrder,
      r.takenBack,
      r.redisFailoverMs === undefined ? "" : ms(r.redisFailoverMs),
      r.sendsBackMs === undefined ? "" : ms(r.sendsBackMs),
      r.settled ? "yes" : "**no**",
    ].join(" | "),
  );
  return [header, rule, ...rows.map((row) => `| ${row} |`)].join("\n");
}

/** True when every step lost nothing, duplicated nothing and settled. */
export function chaosPassed(results: readonly StepResult[]): boolean {
  return results.every(
    (r) =>
      r.settled &&
      r.lost === 0 &&
      r.duplicates === 0 &&
      r.undelivered === 0 &&
      r.storedTwice === 0 &&
      r.outOfOrder === 0 &&
      r.takenBack === 0 &&
      (r.sendsBackMs === undefined || Number.isFinite(r.sendsBackMs)),
  );
}
