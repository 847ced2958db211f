import type { SystemName } from "../load/ipc.ts";
import type { BenchReport, CoresUsed, RouterRun } from "../scenarios/results.ts";
import { cores, DASH, int, msText, ratio, table } from "./format.ts";

const SYSTEMS: SystemName[] = ["switchboard", "plain", "ceiling"];

/** What one router's run measured, for the side-by-side (`--router dev,haproxy`). */
export function routerRun(report: BenchReport): RouterRun {
  const systems: RouterRun["systems"] = {};
  for (const system of SYSTEMS) {
    const r = report.systems[system];
    if (r === undefined) continue;
    const latency = r.latency?.step;
    const best = r.throughput?.best;
    systems[system] = {
      ...(latency === undefined
        ? {}
        : {
            latency: {
              sendRate: latency.sendRate,
              deliveredPerSecond: latency.deliveredPerSecond,
              p99: latency.latency.p99,
              cores: latency.cores,
            },
          }),
      ...(best === undefined
        ? {}
        : {
            throughput: {
              sendRate: best.sendRate,
              deliveredPerSecond: best.deliveredPerSecond,
              cores: best.cores,
            },
          }),
    };
  }
  return { router: report.config.router, systems };
}

const NAMES: Record<RouterRun["router"], string> = {
  dev: "development router",
  haproxy: "HAProxy",
};

/** Router cores per 1,000 deliveries/s: the figure that does not depend on the load's size. */
function perThousand(c: CoresUsed, deliveredPerSecond: number): number {
  return deliveredPerSecond > 0 ? (c.router / deliveredPerSecond) * 1000 : Number.NaN;
}

export function routersSection(report: BenchReport): string {
  const runs = report.routers;
  if (runs === undefined || runs.length < 2) return "";
  const rows: string[][] = [];
  for (const system of SYSTEMS) {
    for (const run of runs) {
      const s = run.systems[system]?.latency;
      if (s === undefined) continue;
      rows.push([
        system,
        NAMES[run.router],
        int(s.sendRate),
        int(s.deliveredPerSecond),
        msText(s.p99),
        cores(s.cores.router),
        cores(s.cores.instances),
        cores(s.cores.redis),
        cores(s.cores.load),
        cores(s.cores.machine),
        cores(perThousand(s.cores, s.deliveredPerSecond)),
      ]);
    }
  }
  const [first, second] = runs;
  const lines: string[] = [];
  if (first !== undefined && second !== undefined) {
    for (const system of SYSTEMS) {
      const a = first.systems[system]?.latency;
      const b = second.systems[system]?.latency;
      if (a === undefined || b === undefined) continue;
      lines.push(
        `- ${system}: ${NAMES[second.router]} / ${NAMES[first.router]}: router cores ` +
          `${ratio(b.cores.router, a.cores.router)}, instances' cores ${ratio(b.cores.instances, a.cores.instances)}, ` +
          `p99 ${ratio(b.p99, a.p99)}.`,
      );
    }
  }
  return [
    "## Routers side by side",
    "",
    `The same scenarios ran through each router in turn (${runs.map((r) => NAMES[r.router]).join(", then ")}), ` +
      "each with fresh clusters; the latency scenario ran at the same send rate through each (the later runs take " +
      "the first one's rate). Cores used during the latency scenario's median round (1.00 = one core busy all " +
      "along); the development router runs in the supervisor's process, HAProxy in its own.",
    "",
    table(
      [
        "system",
        "router",
        "sends/s",
        "deliveries/s",
        "p99 ms",
        "router cores",
        "instances cores",
        "redis cores",
        "load gen cores",
        "machine cores",
        "router cores per 1,000 deliveries/s",
      ],
      rows,
    ),
    "",
    ...(lines.length === 0 ? [] : [...lines, ""]),
    "A production deployment runs behind HAProxy (`deploy/haproxy.cfg`) or the platform's own router (Cloud " +
      "Foundry's gorouter); the development router (`src/router/`) is what `npm start` runs for local work, and " +
      "these figures are no reason to put it in front of users." +
      (rows.length === 0 ? ` (No latency scenario ran: ${DASH}.)` : ""),
  ].join("\n");
}
