/**
 * Preloaded into every instance of a benchmark cluster through NODE_OPTIONS
 * (`--expose-gc --import <this file>`), so that the benchmark can read the
 * heap of a process it did not write: on SIGUSR2 it collects garbage and
 * writes `process.memoryUsage()` to `$SB_BENCH_PROBE_DIR/<pid>.json`. Without
 * that variable it does nothing (and SIGUSR2 keeps its default meaning).
 *
 * Plain JavaScript on purpose: NODE_OPTIONS imports run before `--import tsx`.
 */
import { renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const dir = process.env.SB_BENCH_PROBE_DIR;
if (dir !== undefined && dir !== "") {
  process.on("SIGUSR2", () => {
    const collect = /** @type {undefined | (() => void)} */ (globalThis.gc);
    collect?.();
    collect?.();
    const file = join(dir, `${process.pid}.json`);
    writeFileSync(`${file}.tmp`, JSON.stringify({ ...process.memoryUsage(), at: Date.now() }));
    renameSync(`${file}.tmp`, file);
  });
}
