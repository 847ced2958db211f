import { svg } from "./dom.ts";

/** [milliseconds since the epoch, value] */
export type Point = readonly [number, number];

export interface LineChartSpec {
  /** Unique on the page: the ids of the chart's title and description start with it. */
  id: string;
  /** What the line is, e.g. "Messages/s of i-3f2a1c". */
  title: string;
  points: readonly Point[];
  /** The right edge of the time axis (ms), usually the stats' `at`. */
  now: number;
  /** How far back the time axis reaches at most (ms). */
  spanMs: number;
  /** The shortest time axis (ms), so that a new line grows from the left instead of filling it. */
  minSpanMs: number;
  /** Values as the axis and the description write them. */
  format: (value: number) => string;
  /** The unit after a value in the description, e.g. "MB". */
  unit?: string;
}

const WIDTH = 240;
const HEIGHT = 96;
const PLOT = { left: 34, right: 4, top: 7, bottom: 16 };

/** Round steps (1, 2 or 5 times a power of ten) so that the top line has a plain value. */
function niceCeiling(value: number): number {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  const unit = value / power;
  return (unit <= 1 ? 1 : unit <= 2 ? 2 : unit <= 5 ? 5 : 10) * power;
}

function ago(ms: number): string {
  const seconds = Math.round(ms / 1000);
  return seconds < 120 ? `−${seconds} s` : `−${Math.round(seconds / 60)} min`;
}

/**
 * A line chart as inline SVG, from zero to a round maximum, over the last
 * minutes. Colours and strokes come from classes (the page's policy allows
 * no inline style). It is an image with a title and a description that says
 * what the line shows in words: the latest value, the lowest and the highest.
 */
export function lineChart(spec: LineChartSpec): SVGSVGElement {
  const points = spec.points.filter(([t, v]) => Number.isFinite(t) && Number.isFinite(v));
  const first = points[0]?.[0] ?? spec.now;
  const span = Math.min(spec.spanMs, Math.max(spec.minSpanMs, spec.now - first));
  const from = spec.now - span;
  const shown = points.filter(([t]) => t >= from);
  const values = shown.map(([, v]) => v);
  const top = niceCeiling(Math.max(0, ...values));
  const w = WIDTH - PLOT.left - PLOT.right;
  const h = HEIGHT - PLOT.top - PLOT.bottom;
  const x = (t: number) => PLOT.left + ((t - from) / span) * w;
  const y = (v: number) => PLOT.top + h - (Math.max(0, v) / top) * h;
  const f = (n: number) => n.toFixed(1);

  const titleId = `${spec.id}-title`;
  const descId = `${spec.id}-desc`;
  const unit = spec.unit === undefined ? "" : ` ${spec.unit}`;
  const latest = shown.at(-1)?.[1];
  const description =
    latest === undefined
      ? "No points yet."
      : `Latest ${spec.format(latest)}${unit}; over the last ${ago(span).slice(1)}, ` +
        `lowest ${spec.format(Math.min(...values))}${unit}, highest ${spec.format(Math.max(...values))}${unit}.`;

  const chart = svg("svg", {
    class: "chart",
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
    role: "img",
    "aria-labelledby": `${titleId} ${descId}`,
  });
  chart.append(svg("title", { id: titleId }, spec.title), svg("desc", { id: descId }, description));
  const grid = svg("g", { class: "chart-axes", "aria-hidden": "true" });
  for (const value of [0, top / 2, top]) {
    grid.append(
      svg("line", { x1: PLOT.left, x2: PLOT.left + w, y1: f(y(value)), y2: f(y(value)) }),
      svg(
        "text",
        { x: PLOT.left - 5, y: f(y(value) + 3.5), "text-anchor": "end" },
        spec.format(value),
      ),
    );
  }
  grid.append(
    svg("text", { x: PLOT.left, y: HEIGHT - 4 }, ago(span)),
    svg("text", { x: PLOT.left + w, y: HEIGHT - 4, "text-anchor": "end" }, "now"),
  );
  chart.append(grid);
  if (shown.length > 0) {
    const line = shown.map(([t, v]) => `${f(x(t))},${f(y(v))}`).join(" ");
    chart.append(svg("polyline", { class: "chart-line", points: line }));
    const [lt, lv] = shown.at(-1) ?? [spec.now, 0];
    chart.append(svg("circle", { class: "chart-dot", cx: f(x(lt)), cy: f(y(lv)), r: 2.5 }));
  }
  return chart;
}
