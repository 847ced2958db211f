import type { SystemName } from "../load/ipc.ts";
import type { BenchReport } from "../scenarios/results.ts";

/**
 * The report's chart, written as SVG text: on the left the latency
 * distribution of each system at the fixed load (percentile on a "nines"
 * axis, latency on a log axis), on the right delivered against offered
 * deliveries per second for every throughput step (log axes; filled dots held,
 * hollow ones failed; the diagonal is "everything offered was delivered").
 */

const COLORS: Record<SystemName, string> = {
  switchboard: "#1f6fb4",
  plain: "#e8710a",
  ceiling: "#2b9b3a",
};
const SYSTEMS: SystemName[] = ["switchboard", "plain", "ceiling"];

const WIDTH = 980;
const HEIGHT = 440;
const PANEL = { width: 400, height: 300, top: 70 };
const LEFT_X = 80;
const RIGHT_X = 560;

function esc(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}

function fmt(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(1);
}

/** A log10 axis from 10^lo to 10^hi onto [a, b]. */
function logScale(lo: number, hi: number, a: number, b: number) {
  return (value: number) =>
    a + ((Math.log10(Math.max(value, 10 ** lo)) - lo) / (hi - lo)) * (b - a);
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
    `<text x="${x + width / 2}" y="${top + height + 40}" text-anchor="middle">${esc(xLabel)}</text>`,
    `<text transform="translate(${x - 55} ${top + height / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`,
  ];
}

function latencyPanel(report: BenchReport): string[] {
  const { width, height, top } = PANEL;
  const x0 = LEFT_X;
  const out = frame(x0, "Latency at the fixed load", "percentile", "delivery latency (ms, log)");
  const curves = SYSTEMS.flatMap((s) => {
    const step = report.systems[s]?.latency?.step;
    return step === undefined ? [] : [{ system: s, curve: step.curve.filter(([, v]) => v > 0) }];
  });
  const values = curves.flatMap((c) => c.curve.map(([, v]) => v));
  if (values.length === 0) return [...out, noData(x0)];
  const lo = Math.floor(Math.log10(Math.min(...values)));
  const hi = Math.max(lo + 1, Math.ceil(Math.log10(Math.max(...values))));
  const y = logScale(lo, hi, top + height, top);
  const x = (p: number) => x0 + (nines(p) / 3.5) * width;
  for (let e = lo; e <= hi; e++) {
    const yy = y(10 ** e);
    out.push(`<line x1="${x0}" x2="${x0 + width}" y1="${yy}" y2="${yy}" stroke="#e2e2e2"/>`);
    out.push(`<text x="${x0 - 6}" y="${yy + 4}" text-anchor="end">${fmt(10 ** e)}</text>`);
  }
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
    const points = curve.map(([p, v]) => `${x(p).toFixed(1)},${y(v).toFixed(1)}`).join(" ");
    out.push(
      `<polyline points="${points}" fill="none" stroke="${COLORS[system]}" stroke-width="2.5"/>`,
    );
  }
  return out;
}

function throughputPanel(report: BenchReport): string[] {
  const { width, height, top } = PANEL;
  const x0 = RIGHT_X;
  const out = frame(
    x0,
    "Delivered vs offered (fan-out steps)",
    "offered deliveries per second (log)",
    "delivered per second (log)",
  );
  const series = SYSTEMS.flatMap((s) => {
    const steps = report.systems[s]?.throughput?.steps ?? [];
    return steps.length === 0 ? [] : [{ system: s, steps }];
  });
  const values = series.flatMap((s) =>
    s.steps.flatMap((st) => [st.offeredDeliveryRate, st.deliveredPerSecond]),
  );
  const positive = values.filter((v) => v > 0);
  if (positive.length === 0) return [...out, noData(x0)];
  const lo = Math.floor(Math.log10(Math.min(...positive)));
  const hi = Math.max(lo + 1, Math.ceil(Math.log10(Math.max(...positive))));
  const x = logScale(lo, hi, x0, x0 + width);
  const y = logScale(lo, hi, top + height, top);
  for (let e = lo; e <= hi; e++) {
    const label = 10 ** e >= 1000 ? `${fmt(10 ** e / 1000)}k` : fmt(10 ** e);
    out.push(
      `<line x1="${x0}" x2="${x0 + width}" y1="${y(10 ** e)}" y2="${y(10 ** e)}" stroke="#e2e2e2"/>`,
      `<line x1="${x(10 ** e)}" x2="${x(10 ** e)}" y1="${top}" y2="${top + height}" stroke="#e2e2e2"/>`,
      `<text x="${x0 - 6}" y="${y(10 ** e) + 4}" text-anchor="end">${label}</text>`,
      `<text x="${x(10 ** e)}" y="${top + height + 18}" text-anchor="middle">${label}</text>`,
    );
  }
  out.push(
    `<line x1="${x0}" y1="${top + height}" x2="${x0 + width}" y2="${top}" stroke="#888" stroke-dasharray="5 4"/>`,
  );
  for (const { system, steps } of series) {
    const sorted = [...steps].sort((a, b) => a.offeredDeliveryRate - b.offeredDeliveryRate);
    const points = sorted
      .map((s) => `${x(s.offeredDeliveryRate).toFixed(1)},${y(s.deliveredPerSecond).toFixed(1)}`)
      .join(" ");
    out.push(
      `<polyline points="${points}" fill="none" stroke="${COLORS[system]}" stroke-width="1.5"/>`,
    );
    for (const s of sorted) {
      const fill = s.held ? COLORS[system] : "#fff";
      out.push(
        `<circle cx="${x(s.offeredDeliveryRate).toFixed(1)}" cy="${y(s.deliveredPerSecond).toFixed(1)}" r="4.5" fill="${fill}" stroke="${COLORS[system]}" stroke-width="2"><title>${esc(
          `${system}: ${Math.round(s.sendRate)} sends/s, ${Math.round(s.deliveredPerSecond)} delivered/s, p99 ${s.latency.p99.toFixed(1)} ms${s.held ? "" : ` (${s.reason})`}`,
        )}</title></circle>`,
      );
    }
  }
  return out;
}

function noData(x: number): string {
  return `<text x="${x + PANEL.width / 2}" y="${PANEL.top + PANEL.height / 2}" text-anchor="middle" fill="#888">no data</text>`;
}

function legend(report: BenchReport): string[] {
  const present = SYSTEMS.filter((s) => report.systems[s] !== undefined);
  return present.flatMap((system, i) => {
    const x = LEFT_X + i * 160;
    const y = HEIGHT - 22;
    return [
      `<rect x="${x}" y="${y - 10}" width="22" height="6" fill="${COLORS[system]}"/>`,
      `<text x="${x + 30}" y="${y - 3}">${system}</text>`,
    ];
  });
}

export function chartSvg(report: BenchReport): string {
  const title = `Switchboard benchmark ${report.date.slice(0, 10)} (${report.profile}) - ${report.machine.cores} cores, ${report.machine.cpuModel}`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#fff"/>`,
    `<text x="${WIDTH / 2}" y="24" text-anchor="middle" font-size="15">${esc(title)}</text>`,
    ...latencyPanel(report),
    ...throughputPanel(report),
    ...legend(report),
    `<text x="${RIGHT_X}" y="${HEIGHT - 25}" fill="#555">filled: step held; hollow: failed; dashed: delivered = offered</text>`,
    "</svg>",
    "",
  ].join("\n");
}
