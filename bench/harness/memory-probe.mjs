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
 *   Chrome DevTools or speedscope) to <path>, then `<pid>.json` as a receipt.
 *
 * Without SB_BENCH_PROBE_DIR it does nothing and SIGUSR2 keeps its default
 * meaning. Plain JavaScript on purpose: NODE_OPTIONS imports run before
 * `--import tsx`.
 */
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector";
import { join } from "node:path";
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

if (dir !== undefined && dir !== "") {
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
    answer({ ...process.memoryUsage(), at: Date.now() });
  });
}
