import type { ClusterStats, InstanceStats, StatsPoint } from "../admin-contract.ts";
import { byId, el } from "./dom.ts";
import { figure, MB } from "./format.ts";
import { lineChart, type Point } from "./line-chart.ts";

/** The charts reach back as far as the supervisor keeps points. */
const SPAN_MS = 5 * 60_000;
const MIN_SPAN_MS = 60_000;

interface Series {
  key: string;
  label: string;
  unit?: string;
  pick: (point: StatsPoint) => number | undefined;
  format: (value: number) => string;
}

const INSTANCE_SERIES: Series[] = [
  { key: "sockets", label: "Sockets", pick: (p) => p.sockets, format: figure },
  {
    key: "messages",
    label: "Messages/s",
    pick: (p) => p.messagesPerSecond,
    format: figure,
  },
  {
    key: "lag",
    label: "Event-loop lag p99",
    unit: "ms",
    pick: (p) => p.eventLoopLagMs,
    format: figure,
  },
  {
    key: "rss",
    label: "Memory (RSS)",
    unit: "MB",
    pick: (p) => (p.rssBytes === undefined ? undefined : p.rssBytes / MB),
    format: figure,
  },
];

/** One chart with a visible caption (name and latest value) above it. */
function chartFigure(
  id: string,
  label: string,
  title: string,
  points: Point[],
  now: number,
  format: (value: number) => string,
  unit?: string,
): HTMLElement {
  const latest = points.at(-1)?.[1];
  const value =
    latest === undefined ? "–" : `${format(latest)}${unit === undefined ? "" : ` ${unit}`}`;
  const caption = el("figcaption", undefined, el("span", undefined, label));
  // The caption's value says the same as the chart's description: hidden from screen readers once.
  const shown = el("strong", "chart-value", value);
  shown.setAttribute("aria-hidden", "true");
  caption.append(shown);
  const chart = lineChart({
    id,
    title,
    points,
    now,
    spanMs: SPAN_MS,
    minSpanMs: MIN_SPAN_MS,
    format,
    ...(unit === undefined ? {} : { unit }),
  });
  return el("figure", "chart-figure", caption, chart);
}

function pointsOf(history: StatsPoint[], pick: Series["pick"]): Point[] {
  const points: Point[] = [];
  for (const point of history) {
    const value = pick(point);
    if (value !== undefined) points.push([point.t, value]);
  }
  return points;
}

function instanceCard(instance: InstanceStats, history: StatsPoint[], now: number): HTMLElement {
  const headingId = `charts-${instance.id}`;
  const heading = el("h3", "chart-card-title", instance.id);
  heading.id = headingId;
  const grid = el(
    "div",
    "chart-grid",
    ...INSTANCE_SERIES.map((series) =>
      chartFigure(
        `chart-${instance.id}-${series.key}`,
        series.label,
        `${series.label} of ${instance.id}`,
        pointsOf(history, series.pick),
        now,
        series.format,
        series.unit,
      ),
    ),
  );
  const card = el("section", "card chart-card", heading, grid);
  card.setAttribute("aria-labelledby", headingId);
  card.dataset.instance = instance.id;
  return card;
}

/** Per live instance, its last minutes. */
export function renderInstanceCharts(stats: ClusterStats): void {
  const now = Date.parse(stats.at);
  const live = stats.instances.filter((i) => i.state !== "exited");
  byId("instance-charts").replaceChildren(
    ...live.map((instance) => instanceCard(instance, stats.history[instance.id] ?? [], now)),
  );
}

interface RouterPoint {
  t: number;
  requestsPerSecond: number;
  connections: number;
}

/**
 * The router's figures now, and its requests/s and connections since this
 * page was opened (the supervisor keeps no history of the router's).
 */
export class RouterView {
  private readonly points: RouterPoint[] = [];

  render(stats: ClusterStats): void {
    const now = Date.parse(stats.at);
    const { router } = stats;
    this.points.push({
      t: now,
      requestsPerSecond: router.requestsPerSecond,
      connections: router.connections,
    });
    while ((this.points[0]?.t ?? now) < now - SPAN_MS) this.points.shift();
    byId("router-connections").textContent = String(router.connections);
    byId("router-rate").textContent = figure(router.requestsPerSecond);
    const errors = byId("router-errors");
    errors.textContent = String(router.errors);
    errors.classList.toggle("bad", router.errors > 0);
    byId("router-charts").replaceChildren(
      chartFigure(
        "chart-router-rate",
        "Requests/s",
        "Requests per second through the router",
        this.points.map((p): Point => [p.t, p.requestsPerSecond]),
        now,
        figure,
      ),
      chartFigure(
        "chart-router-connections",
        "Connections",
        "Open connections through the router",
        this.points.map((p): Point => [p.t, p.connections]),
        now,
        figure,
      ),
    );
  }
}
