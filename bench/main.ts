import { mkdir, readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { parseArgs } from "node:util";
import type { SystemName } from "./load/ipc.ts";
import { printTables, writeReport } from "./report/write-report.ts";
import { stopEverything } from "./scenarios/cleanup.ts";
import {
  type BenchConfig,
  fullConfig,
  quickConfig,
  ROUTERS,
  type RouterName,
  SCENARIOS,
  type ScenarioName,
  tinyConfig,
} from "./scenarios/config.ts";
import type { BenchReport } from "./scenarios/results.ts";
import { runBench } from "./scenarios/run.ts";

const USAGE = `npm run bench -- [options]

  --quick                 a run of about two minutes with smaller counts
  --tiny                  the smallest run (what the test runs)
  --systems a,b           switchboard, plain, ceiling (default: all three)
  --scenarios a,b         throughput, latency, connections, storm, bigroom
                          (default: all but bigroom, which runs only when named)
  --latency-rate N        sends/s of the latency scenario when throughput does not run
                          (default: half of plain's maximum, or 100 without it)
  --workers N             load-generator worker processes (default: 4 full, 2 quick)
  --router dev|haproxy    what clients connect through: the supervisor's sticky router
                          (default), or HAProxy from deploy/haproxy.cfg in front of the
                          same instances (needs Debian's haproxy)
  --out DIR               where to write the report (default: bench/results)
  --render FILE.json      write the Markdown and the chart again from a report's JSON
  --profile DIR           write a CPU profile of every instance for every scenario
                          (<system>-<scenario>-<instance>.cpuprofile), and heap
                          snapshots once the idle connections are in, to DIR
  --help
`;

function list<T extends string>(
  value: string | undefined,
  allowed: readonly T[],
  what: string,
): T[] | undefined {
  if (value === undefined) return undefined;
  const items = value
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  for (const item of items) {
    if (!allowed.includes(item as T)) throw new Error(`unknown ${what}: ${item}`);
  }
  return items as T[];
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      quick: { type: "boolean", default: false },
      tiny: { type: "boolean", default: false },
      systems: { type: "string" },
      scenarios: { type: "string" },
      "latency-rate": { type: "string" },
      workers: { type: "string" },
      router: { type: "string" },
      out: { type: "string", default: "bench/results" },
      profile: { type: "string" },
      render: { type: "string" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (values.render !== undefined) {
    // NaN was written as null; the report's formatting shows both as "–".
    const report = JSON.parse(await readFile(values.render, "utf8")) as BenchReport;
    const files = await writeReport(report, dirname(values.render), { json: false });
    process.stdout.write(`${printTables(report)}\n\nwrote ${files.join(", ")}\n`);
    return 0;
  }
  const config: BenchConfig = values.tiny
    ? tinyConfig()
    : values.quick
      ? quickConfig()
      : fullConfig();
  const systems = list<SystemName>(values.systems, ["switchboard", "plain", "ceiling"], "system");
  const scenarios = list<ScenarioName>(values.scenarios, SCENARIOS, "scenario");
  if (systems !== undefined) config.systems = systems;
  if (scenarios !== undefined) config.scenarios = scenarios;
  if (values["latency-rate"] !== undefined) {
    const rate = Number(values["latency-rate"]);
    if (!Number.isFinite(rate) || rate <= 0)
      throw new Error("--latency-rate wants sends/s above 0");
    config.latency.fallbackRate = rate;
  }
  if (values.workers !== undefined) {
    const workers = Number(values.workers);
    if (!Number.isInteger(workers) || workers < 1)
      throw new Error("--workers wants a whole number above 0");
    config.workers = workers;
  }
  const router = list<RouterName>(values.router, ROUTERS, "router");
  if (router !== undefined) {
    if (router.length !== 1) throw new Error("--router wants one of dev, haproxy");
    config.router = router[0] ?? "dev";
  }
  const log = (line: string) => process.stdout.write(`${line}\n`);
  log(
    `Switchboard benchmark (${config.profile}, through the ${config.router} router): ${config.systems.join(", ")}; ${config.scenarios.join(", ")}`,
  );
  const profileDir = values.profile === undefined ? undefined : resolve(values.profile);
  // The instances write their profiles there themselves; a missing folder would fail each write.
  if (profileDir !== undefined) await mkdir(profileDir, { recursive: true });
  const report = await runBench(config, {
    log,
    ...(profileDir === undefined ? {} : { profileDir }),
  });
  log("");
  log(printTables(report));
  const files = await writeReport(report, values.out);
  log(`\nreport: ${files.join(", ")} (${Math.round(report.durationSeconds)} s)`);
  const failed = Object.values(report.systems).some((r) => r !== undefined && r.errors.length > 0);
  return failed ? 1 : 0;
}

let interrupted = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (interrupted) return;
    interrupted = true;
    process.stderr.write(`\n${signal}: stopping the clusters and the load generator…\n`);
    void stopEverything().finally(() => process.exit(130));
  });
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(
      `bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
