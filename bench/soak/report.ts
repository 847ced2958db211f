import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type ChartLine, lineChartSvg } from "./chart.ts";
import type { Sample, SoakResult } from "./run-soak.ts";

/** Share of the run before which growth is not judged (history filling, JIT, pools). */
export const WARMUP_SHARE = 0.25;
/** A window after warm-up shorter than this (s) is too short to judge growth per hour. */
const MIN_WINDOW_SECONDS = 600;

/** A series, its unit, how a sample gives its lines, and its bound on growth per hour. */
interface SeriesSpec {
  key: string;
  title: string;
  unit: string;
  /** Divides raw values into the unit. */
  scale: number;
  lines: (sample: Sample) => [string, number][];
  /** Largest growth per hour after warm-up, per line, in the unit; undefined: shown, not judged. */
  boundPerHour?: number;
}

const SERIES: SeriesSpec[] = [
  {
    key: "redis-memory",
    title: "Redis used_memory",
    unit: "MB",
    scale: 1e6,
    lines: (s) => [["Redis", s.redisUsed]],
    boundPerHour: 1,
  },
  {
    key: "redis-keys",
    title: "Redis keys",
    unit: "keys",
    scale: 1,
    lines: (s) => [["Redis", s.redisKeys]],
    boundPerHour: 100,
  },
  {
    key: "heap",
    title: "Instance heap used (after a full GC)",
    unit: "MB",
    scale: 1e6,
    lines: (s) => s.instances.map((i) => [i.id, i.heapUsed]),
    boundPerHour: 5,
  },
  {
    key: "rss",
    title: "Instance RSS",
    unit: "MB",
    scale: 1e6,
    lines: (s) => s.instances.map((i) => [i.id, i.rss]),
    boundPerHour: 20,
  },
  {
    key: "handles",
    title: "Instance active handles",
    unit: "handles",
    scale: 1,
    lines: (s) => s.instances.map((i) => [i.id, i.handles]),
    boundPerHour: 50,
  },
  {
    key: "lag",
    title: "Instance event-loop delay, p99 per 10 s",
    unit: "ms",
    scale: 1,
    lines: (s) => s.instances.map((i) => [i.id, i.lagP99]),
    boundPerHour: 10,
  },
  {
    key: "delivered",
    title: "Messages acknowledged and shown, cumulative",
    unit: "thousand messages",
    scale: 1000,
    lines: (s) => [
      ["acknowledged", s.counts.acked],
      ["shown (all clients)", s.counts.delivered],
    ],
  },
  {
    key: "lost",
    title: "Messages lost (acknowledged, never shown to the room's observer)",
    unit: "messages",
    scale: 1,
    lines: (s) => [["lost", s.counts.lost]],
  },
];

export interface Judgement {
  series: string;
  line: string;
  /** Growth per hour after warm-up (least squares), in the series' unit; NaN when too short. */
  perHour: number;
  bound: number;
  unit: string;
  samples: number;
  verdict: "ok" | "over" | "too short";
}

function lineData(spec: SeriesSpec, samples: Sample[]): ChartLine[] {
  const lines = new Map<string, [number, number][]>();
  for (const sample of samples) {
    for (const [name, value] of spec.lines(sample)) {
      let points = lines.get(name);
      if (points === undefined) {
        points = [];
        lines.set(name, points);
      }
      points.push([sample.t, value / spec.scale]);
    }
  }
  return [...lines].map(([name, points]) => ({ name, points }));
}

/** Least-squares slope of value over time, per hour. */
export function slopePerHour(points: [number, number][]): number {
  const n = points.length;
  if (n < 2) return Number.NaN;
  const mt = points.reduce((sum, [t]) => sum + t, 0) / n;
  const mv = points.reduce((sum, [, v]) => sum + v, 0) / n;
  let num = 0;
  let den = 0;
  for (const [t, v] of points) {
    num += (t - mt) * (v - mv);
    den += (t - mt) ** 2;
  }
  return den === 0 ? 0 : (num / den) * 3600;
}

/**
 * Growth per hour of every judged line after warm-up. An instance started
 * during the run (the restart's replacement) is judged after a warm-up of
 * its own, as long as the run's.
 */
export function judge(result: SoakResult): Judgement[] {
  const duration = result.samples.at(-1)?.t ?? 0;
  const warmup = duration * WARMUP_SHARE;
  const out: Judgement[] = [];
  for (const spec of SERIES) {
    if (spec.boundPerHour === undefined) continue;
    for (const line of lineData(spec, result.samples)) {
      const born = line.points[0]?.[0] ?? 0;
      const from = Math.max(warmup, born > 0 ? born + warmup : 0);
      const window = line.points.filter(([t]) => t >= from);
      const span = (window.at(-1)?.[0] ?? 0) - (window[0]?.[0] ?? 0);
      const perHour = span >= MIN_WINDOW_SECONDS ? slopePerHour(window) : Number.NaN;
      out.push({
        series: spec.title,
        line: line.name,
        perHour,
        bound: spec.boundPerHour,
        unit: spec.unit,
        samples: window.length,
        verdict: Number.isNaN(perHour) ? "too short" : perHour < spec.boundPerHour ? "ok" : "over",
      });
    }
  }
  return out;
}

/** Passed: nothing lost or refused, and every judged line within its bound ("too short" is not judged). */
export function passed(result: SoakResult, judgements: Judgement[]): boolean {
  return (
    result.counts.lost === 0 &&
    result.counts.refused === 0 &&
    result.counts.loggedOut === 0 &&
    judgements.every((j) => j.verdict !== "over")
  );
}

function fmt(value: number, digits = 2): string {
  return Number.isFinite(value) ? value.toFixed(digits) : "–";
}

/** Writes `soak-<stamp>.md` and its charts (`soak-<stamp>/<series>.svg`) into `dir`; returns the report's path. */
export async function writeSoakReport(
  result: SoakResult,
  dir: string,
  stamp: string,
  commit: string,
): Promise<string> {
  const judgements = judge(result);
  const ok = passed(result, judgements);
  const duration = result.samples.at(-1)?.t ?? 0;
  const chartDir = join(dir, `soak-${stamp}`);
  await mkdir(chartDir, { recursive: true });
  const charts: string[] = [];
  for (const spec of SERIES) {
    const svg = lineChartSvg({
      title: spec.title,
      unit: spec.unit,
      lines: lineData(spec, result.samples),
      warmupEnd: duration * WARMUP_SHARE,
      restartAt: result.restart?.t,
      duration,
    });
    await writeFile(join(chartDir, `${spec.key}.svg`), svg);
    charts.push(`![${spec.title}](soak-${stamp}/${spec.key}.svg)`);
  }
  const o = result.options;
  const c = result.counts;
  const early =
    result.endedEarlyAt === undefined ? undefined : `${fmt(result.endedEarlyAt, 1)} min`;
  const first = result.samples[0];
  const last = result.samples.at(-1);
  const lines = [
    `# Soak run, ${result.started.toISOString()}`,
    "",
    `Commit ${commit}. ${fmt(duration / 60, 1)} minutes of traffic through the router of a 3-instance local cluster on one Redis (no persistence): ${o.chatters} chatters in ${o.rooms} rooms (3 rooms each, a message every ~${o.sendIntervalMs / 1000} s each), a visitor every ~${o.visitIntervalMs / 1000} s (log in with one of ${o.visitorAccounts} accounts, connect, send in a room, join a second room, send, leave it, disconnect; 4 in 5 log out, the others leave their session to expire; the chatters and the observer refresh their sessions with GET /api/session every quarter of the TTL, as an open page would), someone opening the page without logging in every ~${o.visitIntervalMs / 1000} s, and one observer client in every room. HISTORY_SIZE=${o.historySize}, SESSION_TTL_SECONDS=${o.sessionTtlSeconds}. ${result.restart === undefined ? "No instance was restarted." : `Instance ${result.restart.id} was stopped at ${fmt(result.restart.t / 60, 1)} min (SIGTERM: it drained, and the supervisor started a replacement).`}`,
    "",
    `Sampled every ${o.sampleMs / 1000} s: Redis used_memory and key count; each instance's heap (after a full GC), RSS, active handles and event-loop delay (through bench/harness/memory-probe.mjs); the load's counters. A message is lost when the server acknowledged it to its sender and the room's observer had not shown it a minute later.`,
    "",
    `## Verdict: ${ok ? "PASS" : "FAIL"}${early === undefined ? "" : ` (ended early at ${early})`}`,
    "",
    ...(early === undefined
      ? []
      : [
          `**Ended early at ${early}** of the ${o.minutes} planned (SIGTERM or SIGINT): the load was stopped and this report covers the ${result.samples.length} samples taken until then.`,
          "",
        ]),
    `- Acknowledged ${c.acked}, shown ${c.delivered} times over all clients, **lost ${c.lost}**, refused ${c.refused}; unsent at the end ${last?.unsent ?? "–"}; observer reloads ${c.observerResets}; clients that stay but were logged out ${c.loggedOut}.`,
    `- ${c.visits} visits (${c.visitErrors} failed), ${c.logins} logins, ${c.logouts} logouts, ${c.anonymous} visits without login.`,
    `- Redis: ${fmt((first?.redisUsed ?? Number.NaN) / 1e6)} MB and ${first?.redisKeys ?? "–"} keys at the start, ${fmt((last?.redisUsed ?? Number.NaN) / 1e6)} MB and ${last?.redisKeys ?? "–"} keys at the end.`,
    `- Growth after warm-up (the first ${WARMUP_SHARE * 100}% of the run; for the restart's replacement, as long again after it started), least squares over the samples:`,
    "",
    "| series | line | growth per hour | bound per hour | samples | verdict |",
    "| --- | --- | ---: | ---: | ---: | --- |",
    ...judgements.map(
      (j) =>
        `| ${j.series} | ${j.line} | ${fmt(j.perHour)} ${j.unit} | ${j.bound} ${j.unit} | ${j.samples} | ${j.verdict} |`,
    ),
    "",
    `Problems the instances logged (warn or worse): ${result.problems.length}.`,
    ...result.problems.slice(0, 20).map((line) => `    ${line}`),
    "",
    "## Charts",
    "",
    ...charts.flatMap((chart) => [chart, ""]),
  ];
  const path = join(dir, `soak-${stamp}.md`);
  await writeFile(path, `${lines.join("\n")}\n`);
  await writeFile(
    join(chartDir, "samples.json"),
    `${JSON.stringify({ ...result, judgements }, null, 1)}\n`,
  );
  return path;
}
