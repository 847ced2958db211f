import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  foreignCores,
  machineInfo,
  sourceCommit,
  startCpuProfile,
  stopCpuProfile,
} from "../harness/proc-stats.ts";
import type { SystemName } from "../load/ipc.ts";
import { LoadGenerator } from "../load/load-generator.ts";
import { now } from "../load/stamp.ts";
import { runBigRoom } from "./bigroom.ts";
import { onInterrupt } from "./cleanup.ts";
import { type BenchConfig, type ScenarioName, SYSTEM_SCENARIOS } from "./config.ts";
import { runConnections } from "./connections.ts";
import { type ScenarioContext, waitForQuiet } from "./context.ts";
import { runFanout } from "./fanout.ts";
import { runLatencySideBySide } from "./latency.ts";
import { runReplicaAck } from "./replica-ack.ts";
import type { BenchReport, SystemResults } from "./results.ts";
import { runStorm } from "./storm.ts";
import { RunningSystem, SYSTEM_ENV } from "./systems.ts";
import {
  connectThroughputClients,
  runThroughputSideBySide,
  type ThroughputRun,
} from "./throughput.ts";

export interface RunOptions {
  log: (line: string) => void;
  /** Where to write CPU profiles (per scenario) and heap snapshots of the instances. */
  profileDir?: string;
}

const ORDER: SystemName[] = ["switchboard", "plain", "ceiling"];

export const NOTES = [
  "Switchboard runs with its per-user message rate limit off (MESSAGE_RATE_PER_SECOND=0), " +
    "MAX_SOCKETS_PER_SESSION=10000 and AUTH_ATTEMPTS_PER_MINUTE=1000000, since a few hundred " +
    "logins are shared by thousands of clients from one address; everything else is its default " +
    "(HISTORY_SIZE 1000, durable history, offsets, dedup, presence, session check on every handshake).",
  "Every system runs as 3 instances behind the same " +
    "supervisor and sticky router, with the supervisor's own redis-server (append-only file, " +
    "fsync every second). The three clusters run side by side; the throughput and latency steps " +
    "of the three systems take turns, so that whatever else the machine does falls on all alike. " +
    "Switchboard's instances run its build (dist/server/main.js, what npm start runs, made " +
    "before every bench run); plain and ceiling run from source through tsx, whose cost is at " +
    "module load, not per message.",
  "A delivery is a message shown by one client; the sender counts as a receiver of its own " +
    "message, for all three systems (Switchboard shows it on its ack or on the broadcast, " +
    "whichever comes first; plain and ceiling on the broadcast).",
  "Latency is measured from the sender's timestamp (in the message text) to the receiver's " +
    "clock; all processes run on one machine.",
  "The connection scenario connects straight to the instances' ports (through the router each " +
    "connection would hold two more file descriptors, and this machine allows 20,000); every other " +
    "scenario goes through the router.",
  "The load generator and the router share the machine's cores with the systems under test; " +
    "their CPU use is reported with each step, and the instances' CPU per delivery is the figure " +
    "that does not depend on how the machine was shared.",
];

function tag(system: SystemName, scenario: ScenarioName): string {
  return `${system.slice(0, 2)}${scenario.slice(0, 2)}${randomBytes(3).toString("hex")}`;
}

/** Runs the configured scenarios against each system and returns the report. */
export async function runBench(config: BenchConfig, options: RunOptions): Promise<BenchReport> {
  const started = now();
  const { log } = options;
  const report: BenchReport = {
    date: new Date().toISOString(),
    commit: sourceCommit(fileURLToPath(new URL("../../", import.meta.url))),
    profile: config.profile,
    config,
    machine: machineInfo(),
    settings: SYSTEM_ENV,
    notes: NOTES.map((note) => note.replace("as 3 instances", `as ${config.instances} instances`)),
    backgroundCores: await foreignCores(2000),
    systems: {},
    durationSeconds: 0,
  };
  if (report.backgroundCores > 0.25) {
    log(
      `warning: ${report.backgroundCores.toFixed(2)} cores were busy before the run started; ` +
        "other work on this machine skews every figure",
    );
  }
  const wanted = (scenario: ScenarioName) => config.scenarios.includes(scenario);
  // The fan-out and the replica acknowledgement start Switchboard clusters of their own.
  const names = config.scenarios.some((s) => SYSTEM_SCENARIOS.includes(s))
    ? ORDER.filter((s) => config.systems.includes(s))
    : [];
  const results = (name: SystemName): SystemResults => {
    let r = report.systems[name];
    if (r === undefined) {
      r = { errors: [] };
      report.systems[name] = r;
    }
    return r;
  };
  const failed = (name: SystemName, scenario: string, error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    results(name).errors.push({ scenario, message });
    log(`  ${name} ${scenario} failed: ${message}`);
  };

  // The workers load their code while the clusters start.
  const loading = LoadGenerator.start(config.workers);
  loading.catch(() => {});
  const forgetLoad = onInterrupt(async () => (await loading).stop());
  const systems = new Map<SystemName, RunningSystem>();
  try {
    if (names.length > 0) log(`\nstarting the clusters of ${names.join(", ")}`);
    const startOne = async (name: SystemName) => {
      results(name);
      try {
        const system = await RunningSystem.start(
          name,
          { instances: config.instances, sessions: config.sessions, router: config.router },
          log,
        );
        systems.set(name, system);
      } catch (error) {
        failed(name, "start", error);
      }
    };
    if (config.quietWaitMs > 0) {
      // One at a time, each on a quiet machine: a start's own load would delay the next's wait.
      for (const name of names) {
        await waitForQuiet(log, config.quietWaitMs);
        await startOne(name);
      }
    } else {
      // No quiet wait asked for (the tiny run): the starts wait on each other's health checks, not cores.
      await Promise.all(names.map(startOne));
    }
    const load = await loading;
    const context = (name: SystemName, scenario: ScenarioName): ScenarioContext => {
      const system = systems.get(name);
      if (system === undefined) throw new Error(`${name} is not running`);
      return {
        config,
        system,
        load,
        log,
        tag: tag(name, scenario),
        group: `${name}-${scenario}`,
        ...(options.profileDir === undefined ? {} : { profileDir: options.profileDir }),
      };
    };
    /** Runs `run` with CPU profiles of the systems' instances and routers when profiling. */
    const profiled = async (
      who: SystemName[],
      scenario: ScenarioName,
      run: () => Promise<void>,
    ) => {
      const dir = options.profileDir;
      const targets: { name: string; system: RunningSystem; id: string; pid: number }[] = [];
      if (dir !== undefined) {
        for (const name of who) {
          const system = systems.get(name);
          if (system === undefined) continue;
          for (const i of await system.running())
            targets.push({ name, system, id: i.id, pid: i.pid });
          // The supervisor runs the router.
          const router = system.routerPid;
          if (router !== undefined) targets.push({ name, system, id: "router", pid: router });
        }
      }
      for (const t of targets) await startCpuProfile(t.pid, t.system.probeDir);
      try {
        await run();
      } finally {
        for (const t of targets) {
          const path = join(dir ?? "", `${t.name}-${scenario}-${t.id}.cpuprofile`);
          await stopCpuProfile(t.pid, t.system.probeDir, path);
        }
      }
    };
    const running = names.filter((name) => systems.has(name));
    /** A scenario that each system runs alone, one after the other. */
    const eachAlone = async <S extends "connections" | "storm" | "bigroom">(
      scenario: S,
      run: (ctx: ScenarioContext) => Promise<NonNullable<SystemResults[S]>>,
      who: SystemName[] = running,
    ) => {
      log(`\n${scenario}`);
      for (const name of who) {
        await profiled([name], scenario, async () => {
          try {
            results(name)[scenario] = await run(context(name, scenario));
          } catch (error) {
            failed(name, scenario, error);
            await load.closeClients(`${name}-${scenario}`).catch(() => {});
          }
        });
      }
    };

    // 3. Connections first, each system alone on fresh instances, so that memory is measured from a clean start.
    if (wanted("connections")) await eachAlone("connections", runConnections);

    // 1 and 2. Throughput and latency, side by side.
    if (wanted("throughput") || wanted("latency")) {
      log("\nthroughput");
      const runs: ThroughputRun[] = [];
      for (const name of running) {
        try {
          runs.push(await connectThroughputClients(context(name, "throughput")));
        } catch (error) {
          failed(name, "throughput", error);
        }
      }
      const who = runs.map((r) => r.ctx.system.name);
      try {
        if (wanted("throughput")) {
          await profiled(who, "throughput", () => runThroughputSideBySide(runs));
          for (const run of runs) {
            results(run.ctx.system.name).throughput = run.search.result(
              run.clients.length,
              run.connectedByInstance,
            );
          }
        }
        if (wanted("latency")) {
          log("\nlatency");
          const plainBest = report.systems.plain?.throughput?.best?.sendRate;
          const fixed = config.latency.rate;
          const rate =
            fixed ??
            (plainBest === undefined ? config.latency.fallbackRate : Math.max(1, plainBest / 2));
          const basis =
            fixed !== undefined
              ? `fixed ${rate} sends/s (given)`
              : plainBest === undefined
                ? `fixed ${rate} sends/s (plain's maximum unknown)`
                : `half of plain's maximum (${plainBest} sends/s)`;
          await profiled(who, "latency", async () => {
            for (const [run, latency] of await runLatencySideBySide(runs, rate, basis)) {
              results(run.ctx.system.name).latency = latency;
            }
          });
        }
      } catch (error) {
        for (const name of who) failed(name, "throughput", error);
      } finally {
        for (const run of runs) await load.closeClients(run.ctx.group).catch(() => {});
      }
    }

    // 4. Last, each system alone: it kills an instance.
    if (wanted("storm")) await eachAlone("storm", runStorm);

    // 5. The big room, each system alone; the ceiling's users speak no Socket.IO, and it has no rooms to compare.
    if (wanted("bigroom")) {
      await eachAlone(
        "bigroom",
        runBigRoom,
        running.filter((name) => name !== "ceiling"),
      );
    }

    // 6 and 7. Switchboard alone, on clusters and Redis setups of their own.
    const switchboardOnly = config.systems.includes("switchboard");
    if (wanted("fanout") && switchboardOnly) {
      try {
        report.fanout = await runFanout(config, load, log, tag("switchboard", "fanout"));
      } catch (error) {
        failed("switchboard", "fanout", error);
      }
    }
    if (wanted("replica-ack") && switchboardOnly) {
      try {
        report.replicaAck = await runReplicaAck(config, load, log);
      } catch (error) {
        failed("switchboard", "replica-ack", error);
      }
    }
  } finally {
    const load = await loading.catch(() => undefined);
    await load?.closeClients().catch(() => {});
    for (const system of systems.values()) await system.stop().catch(() => {});
    forgetLoad();
    load?.stop();
  }
  report.durationSeconds = (now() - started) / 1000;
  return report;
}
