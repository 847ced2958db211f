import type { SystemName } from "../load/ipc.ts";
import type { BenchReport, StepResult } from "../scenarios/results.ts";

/**
 * The report's chart, written as SVG text, three panels:
 * - the latency distribution of each system at the fixed load (percentile on
 *   a "nines" axis, latency on a log axis);
 * - delivered against offered deliveries per second for every throughput
 *   step (log axes; filled marks held, hollow ones failed; the diagonal is
 *   "everything offered was delivered");
 * - delivery p99 against the offered rate, with the 250 ms limit.
 */

const COLORS: Record<SystemName, string> = {
  switchboard: "#1f6fb4",
  plain: "#e8710a",
  ceiling: "#2b9b3a",
};
const DASHES: Record<SystemName, string> = { switchboard: "", plain: "6 3", ceiling: "2 3" };
const SYSTEMS: SystemName[] = ["switchboard", "plain", "ceiling"];
/** Systems drawn side by side at the same x are nudged apart by this much (px). */
const NUDGE: Record<SystemName, number> = { switchboard: -4, plain: 0, ceiling: 4 };

const WIDTH = 1240;
const HEIGHT = 470;
const PANEL = { width: 320, height: 280, top: 70 };
const PANEL_X = [80, 490, 900];

function esc(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}

function fmt(value: number): string {
  if (value >= 1000)
    return `${Number.isInteger(value / 1000) ? value / 1000 : (value / 1000).toFixed(1)}k`;
  return Number.isInteger(value) ? String(value) : value.toFixed(1);
}

/** A log10 axis from 10^lo to 10^hi onto [a, b]. */
function logScale(lo: number, hi: number, a: number, b: number) {
  return (value: number) =>
    a + ((Math.log10(Math.max(value, 10 ** lo)) - lo) / (hi - lo)) * (b - a);
}

function decades(values: number[]): [number, number] {
  const positive = values.filter((v) => v > 0 && Number.isFinite(v));
  const lo = Math.floor(Math.log10(Math.min(...positive)));
  const hi = Math.max(lo + 1, Math.ceil(Math.log10(Math.max(...positive))));
  return [lo, hi];
}

/** x of a percentile: how many nines it has; the maximum sits past 99.9. */
function nines(p: number): number {
  return p >= 100 ? 3.4 : -Math.log10(1 - p / 100);
}

function frame(x: number, title: string, xLabel: string, yLabel: string): string[] {
  const { width, height, top } = PANEL;
  return [
    `<rect x="${x}" y="${top}" width="${width}" height="${height}" fill="#fbfbfb" stroke="#999"/>`,
    `<text x="${x + width / 2}" y="${top - 14}" text-anchor="middle" font-weight="bold">${esc(title)}</text>`,
    `<text x="${x + width / 2}" y="${top + height + 38}" text-anchor="middle">${esc(xLabel)}</text>`,
    `<text transform="translate(${x - 52} ${top + height / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`,
  ];
}

function noData(x: number): string {
  return `<text x="${x + PANEL.width / 2}" y="${PANEL.top + PANEL.height / 2}" text-anchor="middle" fill="#888">no data</text>`;
}

/** Horizontal grid lines and labels for a log y axis. */
function yGrid(x0: number, lo: number, hi: number, y: (v: number) => number): string[] {
  const out: string[] = [];
  for (let e = lo; e <= hi; e++) {
    const yy = y(10 ** e);
    out.push(
      `<line x1="${x0}" x2="${x0 + PANEL.width}" y1="${yy}" y2="${yy}" stroke="#e2e2e2"/>`,
      `<text x="${x0 - 6}" y="${yy + 4}" text-anchor="end">${fmt(10 ** e)}</text>`,
    );
  }
  return out;
}

function xGrid(lo: number, hi: number, x: (v: number) => number): string[] {
  const { top, height } = PANEL;
  const out: string[] = [];
  for (let e = lo; e <= hi; e++) {
    const xx = x(10 ** e);
    out.push(
      `<line x1="${xx}" x2="${xx}" y1="${top}" y2="${top + height}" stroke="#e2e2e2"/>`,
      `<text x="${xx}" y="${top + height + 18}" text-anchor="middle">${fmt(10 ** e)}</text>`,
    );
  }
  return out;
}

/** A mark per system: circle, square or triangle; hollow when the step failed. */
function mark(system: SystemName, x: number, y: number, held: boolean, title: string): string {
  const fill = held ? COLORS[system] : "#fff";
  const style = `fill="${fill}" stroke="${COLORS[system]}" stroke-width="2"`;
  const tip = `<title>${esc(title)}</title>`;
  if (system === "plain") {
    return `<rect x="${(x - 4).toFixed(1)}" y="${(y - 4).toFixed(1)}" width="8" height="8" ${style}>${tip}</rect>`;
  }
  if (system === "ceiling") {
    const points = `${x.toFixed(1)},${(y - 5).toFixed(1)} ${(x - 5).toFixed(1)},${(y + 4).toFixed(1)} ${(x + 5).toFixed(1)},${(y + 4).toFixed(1)}`;
    return `<polygon points="${points}" ${style}>${tip}</polygon>`;
  }
  return `<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="4.5" ${style}>${tip}</circle>`;
}

function line(system: SystemName, points: [number, number][]): string {
  const dash = DASHES[system] === "" ? "" : ` stroke-dasharray="${DASHES[system]}"`;
  const list = points.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(" ");
  return `<polyline points="${list}" fill="none" stroke="${COLORS[system]}" stroke-width="2"${dash}/>`;
}

function stepTitle(system: SystemName, s: StepResult): string {
  return `${system}: ${Math.round(s.sendRate)} sends/s, ${Math.round(s.deliveredPerSecond)} delivered/s, p99 ${s.latency.p99.toFixed(1)} ms${s.held ? "" : ` (${s.reason})`}`;
}

function latencyPanel(report: BenchReport, x0: number): string[] {
  const { width, height, top } = PANEL;
  const out = frame(x0, "Latency at the fixed load", "percentile", "delivery latency (ms, log)");
  const curves = SYSTEMS.flatMap((s) => {
    const step = report.systems[s]?.latency?.step;
    return step === undefined ? [] : [{ system: s, curve: step.curve.filter(([, v]) => v > 0) }];
  });
  const values = curves.flatMap((c) => c.curve.map(([, v]) => v));
  if (values.length === 0) return [...out, noData(x0)];
  const [lo, hi] = decades(values);
  const y = logScale(lo, hi, top + height, top);
  const x = (p: number) => x0 + (nines(p) / 3.5) * width;
  out.push(...yGrid(x0, lo, hi, y));
  for (const [p, label] of [
    [0, "0"],
    [50, "50"],
    [90, "90"],
    [99, "99"],
    [99.9, "99.9"],
    [100, "max"],
  ] as const) {
    const xx = x(p);
    out.push(`<line x1="${xx}" x2="${xx}" y1="${top}" y2="${top + height}" stroke="#e2e2e2"/>`);
    out.push(`<text x="${xx}" y="${top + height + 18}" text-anchor="middle">${label}</text>`);
  }
  for (const { system, curve } of curves) {
    out.push(
      line(
        system,
        curve.map(([p, v]) => [x(p), y(v)]),
      ),
    );
  }
  return out;
}

function stepsOf(report: BenchReport) {
  return SYSTEMS.flatMap((s) => {
    const steps = report.systems[s]?.throughput?.steps ?? [];
    const sorted = [...steps].sort((a, b) => a.offeredDeliveryRate - b.offeredDeliveryRate);
    return sorted.length === 0 ? [] : [{ system: s, steps: sorted }];
  });
}

function deliveredPanel(report: BenchReport, x0: number): string[] {
  const { width, height, top } = PANEL;
  const out = frame(
    x0,
    "Delivered vs offered (fan-out steps)",
    "offered deliveries per second (log)",
    "delivered per second (log)",
  );
  const series = stepsOf(report);
  const values = series.flatMap((s) =>
    s.steps.flatMap((st) => [st.offeredDeliveryRate, st.deliveredPerSecond]),
  );
  if (values.filter((v) => v > 0).length === 0) return [...out, noData(x0)];
  const [lo, hi] = decades(values);
  const x = logScale(lo, hi, x0, x0 + width);
  const y = logScale(lo, hi, top + height, top);
  out.push(...yGrid(x0, lo, hi, y), ...xGrid(lo, hi, x));
  out.push(
    `<line x1="${x0}" y1="${top + height}" x2="${x0 + width}" y2="${top}" stroke="#888" stroke-dasharray="5 4"/>`,
  );
  for (const { system, steps } of series) {
    const at = (s: StepResult): [number, number] => [
      x(s.offeredDeliveryRate) + NUDGE[system],
      y(s.deliveredPerSecond),
    ];
    out.push(line(system, steps.map(at)));
    for (const s of steps) out.push(mark(system, ...at(s), s.held, stepTitle(system, s)));
  }
  return out;
}

function p99Panel(report: BenchReport, x0: number): string[] {
  const { width, height, top } = PANEL;
  const limit = report.config.throughput.p99LimitMs;
  const out = frame(
    x0,
    "p99 vs offered (fan-out steps)",
    "offered deliveries per second (log)",
    "delivery p99 (ms, log)",
  );
  const series = stepsOf(report);
  const rates = series.flatMap((s) => s.steps.map((st) => st.offeredDeliveryRate));
  const p99s = series.flatMap((s) => s.steps.map((st) => st.latency.p99));
  if (rates.filter((v) => v > 0).length === 0) return [...out, noData(x0)];
  const [xlo, xhi] = decades(rates);
  const [ylo, yhi] = decades([...p99s, limit]);
  const x = logScale(xlo, xhi, x0, x0 + width);
  const y = logScale(ylo, yhi, top + height, top);
  out.push(...yGrid(x0, ylo, yhi, y), ...xGrid(xlo, xhi, x));
  out.push(
    `<line x1="${x0}" x2="${x0 + width}" y1="${y(limit)}" y2="${y(limit)}" stroke="#c0392b" stroke-dasharray="5 4"/>`,
    `<text x="${x0 + width - 4}" y="${y(limit) - 5}" text-anchor="end" fill="#c0392b">limit ${limit} ms</text>`,
  );
  for (const { system, steps } of series) {
    const at = (s: StepResult): [number, number] => [
      x(s.offeredDeliveryRate) + NUDGE[system],
      y(s.latency.p99),
    ];
    out.push(line(system, steps.map(at)));
    for (const s of steps) out.push(mark(system, ...at(s), s.held, stepTitle(system, s)));
  }
  return out;
}

function legend(report: BenchReport): string[] {
  const present = SYSTEMS.filter((s) => report.systems[s] !== undefined);
  const y = HEIGHT - 30;
  return [
    ...present.flatMap((system, i) => {
      const x = (PANEL_X[0] ?? 0) + i * 150;
      return [
        line(system, [
          [x, y],
          [x + 28, y],
        ]),
        mark(system, x + 14, y, true, system),
        `<text x="${x + 36}" y="${y + 4}">${system}</text>`,
      ];
    }),
    `<text x="${PANEL_X[1]}" y="${y + 4}" fill="#555">filled marks: step held; hollow: failed (p99 over the limit or a message lost)</text>`,
  ];
}

export function chartSvg(report: BenchReport): string {
  const title = `Switchboard benchmark ${report.date.slice(0, 10)} (${report.profile}), commit ${report.commit} - ${report.machine.cores} cores, ${report.machine.cpuModel}`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#fff"/>`,
    `<text x="${WIDTH / 2}" y="24" text-anchor="middle" font-size="15">${esc(title)}</text>`,
    ...latencyPanel(report, PANEL_X[0] ?? 0),
    ...deliveredPanel(report, PANEL_X[1] ?? 0),
    ...p99Panel(report, PANEL_X[2] ?? 0),
    ...legend(report),
    "</svg>",
    "",
  ].join("\n");
}
