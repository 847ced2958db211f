import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { sourceCommit } from "../harness/proc-stats.ts";
import { judge, passed, writeSoakReport } from "./report.ts";
import { runSoak } from "./run-soak.ts";

/**
 * `npm run soak -- --minutes N` (default 30): steady chat, visits with logins
 * and logouts, and one instance restart through a 3-instance local cluster,
 * sampled every 10 s; writes bench/results/soak-<date>.md with a chart per
 * series and a verdict on growth per hour after warm-up. Exits 1 when
 * something was lost or a series grew past its bound. Ended early by
 * SIGTERM or SIGINT, it writes the report of the samples so far (marked
 * "ended early at N min") and exits 143 or 130.
 */
const { values } = parseArgs({
  options: {
    minutes: { type: "string", default: "30" },
    rooms: { type: "string", default: "20" },
    chatters: { type: "string", default: "24" },
    "send-interval": { type: "string", default: "4000" },
    visitors: { type: "string", default: "20" },
    "visit-interval": { type: "string", default: "5000" },
    "history-size": { type: "string", default: "200" },
    "session-ttl": { type: "string", default: "1200" },
    "sample-seconds": { type: "string", default: "10" },
    /** Where the report goes. @default bench/results */
    out: { type: "string", default: fileURLToPath(new URL("../results/", import.meta.url)) },
    /** Run the instances from the source instead of the build. */
    source: { type: "boolean", default: false },
  },
});

const numbers = {
  minutes: Number(values.minutes),
  rooms: Number(values.rooms),
  chatters: Number(values.chatters),
  sendIntervalMs: Number(values["send-interval"]),
  visitorAccounts: Number(values.visitors),
  visitIntervalMs: Number(values["visit-interval"]),
  historySize: Number(values["history-size"]),
  sessionTtlSeconds: Number(values["session-ttl"]),
  sampleMs: Number(values["sample-seconds"]) * 1000,
};
for (const [name, value] of Object.entries(numbers)) {
  if (!Number.isFinite(value) || value <= 0) {
    process.stderr.write(`--${name}: a positive number, please (got ${value})\n`);
    process.exit(2);
  }
}

const commit = sourceCommit(fileURLToPath(new URL("../../", import.meta.url)));
const log = (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);
// The first SIGTERM or SIGINT ends the run early with a report of what it has;
// a second one ends this process at once (the cluster's processes are ended with it).
const stop = new AbortController();
let stoppedBy: NodeJS.Signals | undefined;
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.on(signal, () => {
    if (stoppedBy !== undefined) process.exit(signal === "SIGINT" ? 130 : 143);
    stoppedBy = signal;
    log(`${signal}: ending the run early; writing the report of the samples so far`);
    stop.abort();
  });
}
const result = await runSoak({
  ...numbers,
  restartAt: 0.4,
  instanceEntry: values.source ? "src/server/main.ts" : "dist/server/main.js",
  log,
  stop: stop.signal,
});
await mkdir(values.out, { recursive: true });
let stamp = result.started.toISOString().slice(0, 10);
if (existsSync(`${values.out}/soak-${stamp}.md`)) {
  stamp = result.started.toISOString().slice(0, 16).replace(":", "");
}
const path = await writeSoakReport(result, values.out, stamp, commit);
const ok = passed(result, judge(result));
if (stoppedBy !== undefined) {
  process.stdout.write(`\nENDED EARLY (${stoppedBy}): report written to ${path}\n`);
  process.exit(stoppedBy === "SIGINT" ? 130 : 143);
}
process.stdout.write(`\n${ok ? "PASS" : "FAIL"}: report written to ${path}\n`);
process.exit(ok ? 0 : 1);
