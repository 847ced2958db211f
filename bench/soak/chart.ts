/**
 * One soak series over time as SVG text: a line per source (Redis, or each
 * instance), the warm-up shaded, the instance restart marked.
 */

export interface ChartLine {
  name: string;
  /** [seconds since start, value] */
  points: [number, number][];
}

export interface ChartSpec {
  title: string;
  /** Shown on the y axis, e.g. "MB". */
  unit: string;
  lines: ChartLine[];
  /** Seconds: the end of the warm-up (shaded before it). */
  warmupEnd: number;
  /** Seconds: when an instance was restarted. */
  restartAt?: number | undefined;
  /** Seconds: the run's length. */
  duration: number;
}

const COLORS = ["#1f6fb4", "#e8710a", "#2b9b3a", "#c22f2f", "#7b4fb0", "#8c564b", "#d6559b"];
const WIDTH = 720;
const HEIGHT = 300;
const PLOT = { left: 70, right: 170, top: 36, bottom: 44 };

function esc(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}

function label(value: number): string {
  if (value === 0) return "0";
  const abs = Math.abs(value);
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(1);
  return value.toPrecision(2);
}

/** Round tick spacing (1, 2 or 5 times a power of ten) for about `count` ticks. */
function tickStep(span: number, count: number): number {
  const raw = span / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const unit = raw / power;
  return (unit <= 1 ? 1 : unit <= 2 ? 2 : unit <= 5 ? 5 : 10) * power;
}

export function lineChartSvg(spec: ChartSpec): string {
  const w = WIDTH - PLOT.left - PLOT.right;
  const h = HEIGHT - PLOT.top - PLOT.bottom;
  const values = spec.lines
    .flatMap((line) => line.points.map(([, v]) => v))
    .filter(Number.isFinite);
  const hiRaw = values.length === 0 ? 1 : Math.max(...values);
  const loRaw = values.length === 0 ? 0 : Math.min(0, ...values);
  const step = tickStep(hiRaw - loRaw || 1, 5);
  const lo = Math.floor(loRaw / step) * step;
  const hi = Math.max(lo + step, Math.ceil(hiRaw / step) * step);
  const duration = Math.max(spec.duration, 1);
  const x = (t: number) => PLOT.left + (t / duration) * w;
  const y = (v: number) => PLOT.top + h - ((v - lo) / (hi - lo)) * h;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="11">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#fff"/>`,
    `<text x="${PLOT.left}" y="20" font-weight="bold" font-size="13">${esc(spec.title)}</text>`,
    `<rect x="${x(0)}" y="${PLOT.top}" width="${x(Math.min(spec.warmupEnd, duration)) - x(0)}" height="${h}" fill="#f1f1f1"/>`,
    `<text x="${x(0) + 4}" y="${PLOT.top + 12}" fill="#888">warm-up</text>`,
  ];
  for (let v = lo; v <= hi + step / 2; v += step) {
    out.push(
      `<line x1="${PLOT.left}" x2="${PLOT.left + w}" y1="${y(v)}" y2="${y(v)}" stroke="#e2e2e2"/>`,
      `<text x="${PLOT.left - 6}" y="${y(v) + 4}" text-anchor="end">${label(v)}</text>`,
    );
  }
  const minutes = duration / 60;
  const tStep = tickStep(minutes, 8);
  for (let m = 0; m <= minutes + 1e-9; m += tStep) {
    out.push(
      `<line x1="${x(m * 60)}" x2="${x(m * 60)}" y1="${PLOT.top + h}" y2="${PLOT.top + h + 4}" stroke="#999"/>`,
      `<text x="${x(m * 60)}" y="${PLOT.top + h + 16}" text-anchor="middle">${label(m)}</text>`,
    );
  }
  out.push(
    `<text x="${PLOT.left + w / 2}" y="${HEIGHT - 8}" text-anchor="middle">minutes</text>`,
    `<text transform="translate(16 ${PLOT.top + h / 2}) rotate(-90)" text-anchor="middle">${esc(spec.unit)}</text>`,
    `<rect x="${PLOT.left}" y="${PLOT.top}" width="${w}" height="${h}" fill="none" stroke="#999"/>`,
  );
  if (spec.restartAt !== undefined) {
    out.push(
      `<line x1="${x(spec.restartAt)}" x2="${x(spec.restartAt)}" y1="${PLOT.top}" y2="${PLOT.top + h}" stroke="#c22f2f" stroke-dasharray="4 3"/>`,
      `<text x="${x(spec.restartAt) + 4}" y="${PLOT.top + h - 6}" fill="#c22f2f">restart</text>`,
    );
  }
  spec.lines.forEach((line, i) => {
    const color = COLORS[i % COLORS.length] ?? "#333";
    const points = line.points.filter(([, v]) => Number.isFinite(v));
    if (points.length > 0) {
      const path = points.map(([t, v]) => `${x(t).toFixed(1)},${y(v).toFixed(1)}`).join(" ");
      out.push(`<polyline points="${path}" fill="none" stroke="${color}" stroke-width="1.5"/>`);
    }
    const ly = PLOT.top + 8 + i * 16;
    out.push(
      `<line x1="${PLOT.left + w + 12}" x2="${PLOT.left + w + 30}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="2"/>`,
      `<text x="${PLOT.left + w + 34}" y="${ly + 4}">${esc(line.name)}</text>`,
    );
  });
  out.push("</svg>");
  return `${out.join("\n")}\n`;
}
