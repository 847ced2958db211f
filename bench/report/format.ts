/** Number formatting for the report: "–" for anything missing. */

export const DASH = "–";

function finite(value: number | undefined): value is number {
  return value !== undefined && Number.isFinite(value);
}

/** Integer with thousands separators. */
export function int(value: number | undefined): string {
  return finite(value) ? Math.round(value).toLocaleString("en-US") : DASH;
}

/** Milliseconds: one decimal below 10, whole above. */
export function msText(value: number | undefined): string {
  if (!finite(value)) return DASH;
  return value < 10 ? value.toFixed(1) : Math.round(value).toLocaleString("en-US");
}

export function kb(bytes: number | undefined): string {
  return finite(bytes) ? (bytes / 1024).toFixed(1) : DASH;
}

export function mb(bytes: number | undefined): string {
  return finite(bytes) ? (bytes / 2 ** 20).toFixed(1) : DASH;
}

/** Two decimals: cores, and ms per turn on a core. */
export function twoDecimals(value: number | undefined): string {
  return finite(value) ? value.toFixed(2) : DASH;
}

export const cores = twoDecimals;

/** a / b as "1.23×"; "–" when either is missing or b is 0. */
export function ratio(a: number | undefined, b: number | undefined): string {
  if (!finite(a) || !finite(b) || b === 0) return DASH;
  return `${(a / b).toFixed(2)}×`;
}

/** A Markdown table with aligned columns (readable as plain text too). */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) =>
    Math.max(3, h.length, ...rows.map((r) => (r[i] ?? "").length)),
  );
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(" | ")} |`;
  const rule = `| ${widths.map((w) => "-".repeat(w)).join(" | ")} |`;
  return [line(header), rule, ...rows.map(line)].join("\n");
}
