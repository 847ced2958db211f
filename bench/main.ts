import { mkdir, readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { parseArgs } from "node:util";
import type { SystemName } from "./load/ipc.ts";
import { routerRun } from "./report/routers.ts";
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
  --scenarios a,b         throughput, latency, connections, storm, bigroom, fanout,
                          replica-ack (default: the first four; bigroom, fanout and
                          replica-ack run only when named: fanout is Switchboard on 6
                          instances and 60 rooms of its own, replica-ack Switchboard on a
                          master, a replica and Sentinels, acknowledgement on and off)
  --latency-rate N        sends/s of the latency and replica-ack scenarios when throughput
                          does not run (default: half of plain's maximum, or 100 without it)
  --workers N             load-generator worker processes (default: 4 full, 2 quick)
  --router dev|haproxy    what clients connect through: the supervisor's sticky router
                          (default), or HAProxy from deploy/haproxy.cfg in front of the
                          same instances (needs Debian's haproxy); a list (dev,haproxy)
                          runs the scenarios through each in turn, at the same latency
                          rate, and adds a report (<name>-routers) with the routers' and
                          the instances' cores side by side
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
  const routers = list<RouterName>(values.router, ROUTERS, "router") ?? [config.router];
  if (routers.length === 0 || new Set(routers).size !== routers.length)
    throw new Error("--router wants dev, haproxy, or both once each (dev,haproxy)");
  const log = (line: string) => process.stdout.write(`${line}\n`);
  const profileDir = values.profile === undefined ? undefined : resolve(values.profile);
  // The instances write their profiles there themselves; a missing folder would fail each write.
  if (profileDir !== undefined) await mkdir(profileDir, { recursive: true });
  const reports: BenchReport[] = [];
  for (const router of routers) {
    config.router = router;
    log(
      `Switchboard benchmark (${config.profile}, through the ${router} router): ${config.systems.join(", ")}; ${config.scenarios.join(", ")}`,
    );
    // A copy per run: each report keeps the config it ran with.
    const report = await runBench(structuredClone(config), {
      log,
      ...(profileDir === undefined ? {} : { profileDir }),
    });
    reports.push(report);
    log("");
    log(printTables(report));
    const files = await writeReport(report, values.out);
    log(`\nreport: ${files.join(", ")} (${Math.round(report.durationSeconds)} s)`);
    // The next router carries the same load: the first run's latency rate.
    const rate = Object.values(report.systems).find((r) => r?.latency !== undefined)?.latency?.step
      .sendRate;
    if (config.latency.rate === undefined && rate !== undefined) config.latency.rate = rate;
  }
  const last = reports.at(-1);
  if (reports.length > 1 && last !== undefined) {
    const combined: BenchReport = {
      ...last,
      routers: reports.map(routerRun),
      durationSeconds: reports.reduce((sum, r) => sum + r.durationSeconds, 0),
    };
    const files = await writeReport(combined, values.out);
    log(`\nrouters side by side: ${files.join(", ")}`);
  }
  const failed = reports.some((report) =>
    Object.values(report.systems).some((r) => r !== undefined && r.errors.length > 0),
  );
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
