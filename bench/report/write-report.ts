import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { BenchReport } from "../scenarios/results.ts";
import { markdownReport, tablesText } from "./markdown.ts";
import { chartSvg } from "./svg.ts";
import { targets } from "./targets.ts";

/**
 * `<date>` for a full run, `<date>-quick` / `<date>-tiny` for the others,
 * with `-haproxy` after it for a run through HAProxy, and `-routers` for the
 * side-by-side of several routers.
 */
export function reportName(report: BenchReport): string {
  const day = report.date.slice(0, 10);
  const name = report.profile === "full" ? day : `${day}-${report.profile}`;
  if ((report.routers?.length ?? 0) > 1) return `${name}-routers`;
  return (report.config.router ?? "dev") === "haproxy" ? `${name}-haproxy` : name;
}

/** NaN and Infinity have no JSON form: they are written as null. */
function toJson(report: BenchReport): string {
  return `${JSON.stringify(
    { ...report, targets: targets(report) },
    (_key, value: unknown) => (typeof value === "number" && !Number.isFinite(value) ? null : value),
    2,
  )}\n`;
}

/** Writes `<name>.json` (unless told not to), `<name>.md` and `<name>.svg`; returns their paths. */
export async function writeReport(
  report: BenchReport,
  dir: string,
  options: { json: boolean } = { json: true },
): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const name = reportName(report);
  const written: string[] = [];
  if (options.json) {
    written.push(join(dir, `${name}.json`));
    await writeFile(join(dir, `${name}.json`), toJson(report));
  }
  await writeFile(join(dir, `${name}.md`), markdownReport(report, `${name}.svg`));
  await writeFile(join(dir, `${name}.svg`), chartSvg(report));
  written.push(join(dir, `${name}.md`), join(dir, `${name}.svg`));
  return written;
}

export function printTables(report: BenchReport): string {
  return tablesText(report);
}
