/**
 * Preloaded into every instance of a benchmark cluster through NODE_OPTIONS
 * (`--expose-gc --import <this file>`), so that the benchmark can look inside
 * processes it did not write, without any change to them. On SIGUSR2 it reads
 * `$SB_BENCH_PROBE_DIR/<pid>.cmd` (then deletes it) and does what it says:
 *
 * - no file, or `memory`: collects garbage and writes `process.memoryUsage()`
 *   to `<pid>.json`;
 * - `memory <path>`: the same, and writes a heap snapshot to <path> first;
 * - `cpu-start`: starts the V8 CPU profiler (NODE_OPTIONS may not hold
 *   `--cpu-prof`);
 * - `cpu-stop <path>`: stops it and writes the profile (`.cpuprofile`, for
 *   Chrome DevTools or speedscope) to <path>, then `<pid>.json` as a receipt;
 * - `stats`: like `memory`, plus the count of active handles and the event
 *   loop's delay since the last `stats` (p50, p99 and max, ms), for the soak run.
 *
 * Without SB_BENCH_PROBE_DIR it does nothing and SIGUSR2 keeps its default
 * meaning. Plain JavaScript on purpose: NODE_OPTIONS imports run before
 * `--import tsx`.
 */
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { writeHeapSnapshot } from "node:v8";

const dir = process.env.SB_BENCH_PROBE_DIR;
/** @type {Session | undefined} */
let profiler;

/** @param {unknown} body */
function answer(body) {
  if (dir === undefined) return;
  const file = join(dir, `${process.pid}.json`);
  writeFileSync(`${file}.tmp`, JSON.stringify(body));
  renameSync(`${file}.tmp`, file);
}

function command() {
  if (dir === undefined) return "memory";
  const file = join(dir, `${process.pid}.cmd`);
  if (!existsSync(file)) return "memory";
  const text = readFileSync(file, "utf8").trim();
  rmSync(file, { force: true });
  return text;
}

/** @type {import("node:perf_hooks").IntervalHistogram | undefined} */
let loopDelay;

if (dir !== undefined && dir !== "") {
  loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  process.on("SIGUSR2", () => {
    const text = command();
    const space = text.indexOf(" ");
    const verb = space < 0 ? text : text.slice(0, space);
    const path = space < 0 ? "" : text.slice(space + 1);
    if (verb === "cpu-start") {
      profiler = new Session();
      profiler.connect();
      profiler.post("Profiler.enable", () =>
        profiler?.post("Profiler.start", () => answer({ at: Date.now(), profiling: true })),
      );
      return;
    }
    if (verb === "cpu-stop") {
      const session = profiler;
      profiler = undefined;
      if (session === undefined) {
        answer({ at: Date.now(), profiling: false });
        return;
      }
      session.post("Profiler.stop", (error, result) => {
        if (error === null && path !== "") writeFileSync(path, JSON.stringify(result.profile));
        session.disconnect();
        answer({ at: Date.now(), profile: error === null ? path : String(error) });
      });
      return;
    }
    const collect = /** @type {undefined | (() => void)} */ (globalThis.gc);
    collect?.();
    collect?.();
    if (path !== "") writeHeapSnapshot(path);
    if (verb === "stats" && loopDelay !== undefined) {
      const lag = {
        p50: loopDelay.percentile(50) / 1e6,
        p99: loopDelay.percentile(99) / 1e6,
        max: loopDelay.max / 1e6,
      };
      loopDelay.reset();
      answer({
        ...process.memoryUsage(),
        handles: process.getActiveResourcesInfo().length,
        lag,
        at: Date.now(),
      });
      return;
    }
    answer({ ...process.memoryUsage(), at: Date.now() });
  });
}
