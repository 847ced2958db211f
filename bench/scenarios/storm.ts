import { join } from "node:path";
import type { ClusterInstance } from "../harness/cluster-process.ts";
import { startCpuProfile, stopCpuProfile } from "../harness/proc-stats.ts";
import type { ClientSpec, ConnectResult, SendResult } from "../load/ipc.ts";
import { now } from "../load/stamp.ts";
import {
  cpuMeter,
  type ScenarioContext,
  settle,
  summarizeValues,
  waitForDeliveries,
} from "./context.ts";
import type { StormResult } from "./results.ts";
import { membersOf, routerClients } from "./throughput.ts";

/**
 * Scenario 4, reconnect storm: clients chat through the router at a steady
 * rate; the instance holding the most of them is killed with SIGKILL. For
 * each of its clients: the time from the kill until it was connected again
 * with its rooms joined (for Switchboard that includes the replay of what it
 * missed: its status turns "connected" only once every room caught up).
 * Sending goes on throughout; at the end every client must have shown every
 * message of its room exactly once.
 *
 * With `warmup`, a first storm of the same size runs before, in other rooms,
 * and the measured one kills that storm's replacement instance: the survivors
 * are then instances that have handled a storm before, as the instances of a
 * cluster that has been up for a while have, instead of processes whose
 * reconnection paths the JIT compiler has yet to optimise (on the benchmark's
 * shared cores, the load generator's workers, the router and the instances
 * all compile the same paths during a first storm). The first storm's
 * figures are kept in the result.
 */
export async function runStorm(ctx: ScenarioContext): Promise<StormResult> {
  if (!ctx.config.storm.warmup) return stormRound(ctx, "measured");
  const before = new Set((await ctx.system.running()).map((i) => i.id));
  const first = await stormRound(ctx, "first");
  const replacement = await startedSince(ctx, before);
  const measured = await stormRound(ctx, "measured", replacement);
  return {
    ...measured,
    warmup: {
      affected: first.affected,
      reconnected: first.reconnected,
      reconnect: first.reconnect,
      lost: first.lost,
      duplicates: first.duplicates,
    },
  };
}

/** The instance that the supervisor started in place of the one a storm killed (not in `before`), once it runs. */
async function startedSince(ctx: ScenarioContext, before: Set<string>): Promise<string> {
  const running = (instances: ClusterInstance[]) => instances.filter((i) => i.state === "running");
  const list = await ctx.system.cluster.waitForInstances(
    (instances) =>
      running(instances).length >= ctx.config.instances &&
      running(instances).some((i) => !before.has(i.id)),
  );
  const replacement = running(list).find((i) => !before.has(i.id));
  if (replacement === undefined) throw new Error("the killed instance was not replaced");
  return replacement.id;
}

/**
 * One storm, the first or the measured one (each in rooms of its own): kills
 * `prefer` when it holds clients, else the instance holding the most.
 */
function stormRound(
  ctx: ScenarioContext,
  round: "first" | "measured",
  prefer?: string,
): Promise<StormResult> {
  const settings = ctx.config.storm;
  const measured = round === "measured";
  const clients = routerClients(ctx, settings.clients, settings.rooms, measured ? "s" : "w");
  return stormOf(ctx, clients, {
    ...settings,
    label: measured ? "" : " (first storm)",
    profile: measured,
    connect: { concurrency: 100, timeoutMs: 60_000 },
    ...(prefer === undefined ? {} : { prefer }),
  });
}

/** How one storm runs; `runStorm` and the big room (`runBigRoom`) each set it. */
export interface StormOptions {
  rooms: number;
  /** Messages sent per second, all clients together. */
  rate: number;
  calmMs: number;
  maxWaitMs: number;
  drainMs: number;
  connect: { concurrency: number; timeoutMs: number };
  /** Said after the system's name in the log. */
  label: string;
  /** The instance to kill when it holds clients (else the one holding the most). */
  prefer?: string;
  /** Whether CPU profiles are taken (with --profile). */
  profile: boolean;
  /** The measurement window's step (a scenario that measured before in its tag takes another). */
  step?: number;
  /** Runs once the clients are connected, before the storm starts (the big room measures there). */
  connected?: (connect: ConnectResult) => Promise<void>;
}

/**
 * Connects the clients, lets them chat, kills an instance and measures how
 * each of its clients came back and whether every member of every room
 * showed every message once; closes the clients at the end.
 */
export async function stormOf(
  ctx: ScenarioContext,
  clients: ClientSpec[],
  settings: StormOptions,
): Promise<StormResult> {
  const measured = settings.profile;
  const connect = await ctx.load.connect(clients, settings.connect);
  if (connect.failed > 0) {
    throw new Error(`${connect.failed} clients did not connect: ${connect.errors.join("; ")}`);
  }
  const prefer = settings.prefer;
  const [victim, held] =
    prefer !== undefined && (connect.byInstance[prefer] ?? 0) > 0
      ? [prefer, connect.byInstance[prefer]]
      : (Object.entries(connect.byInstance).sort((a, b) => b[1] - a[1])[0] ?? []);
  if (victim === undefined) throw new Error("no instance holds a client");
  ctx.log(
    `  ${ctx.system.name}${settings.label}: ${connect.connected} clients (${Object.values(connect.byInstance).join(" / ")}); killing ${victim} (${held})`,
  );
  await settings.connected?.(connect);

  await settle(ctx);
  await ctx.load.begin(ctx.tag, settings.step ?? 0);
  await ctx.load.watch();
  const sent: SendResult = { sent: 0, sentByRoom: {}, whileDisconnected: 0, lagMs: 0 };
  const chat = async (ms: number) => {
    const part = await ctx.load.send(ctx.group, Math.round((settings.rate * ms) / 1000), ms);
    sent.sent += part.sent;
    sent.whileDisconnected += part.whileDisconnected;
    for (const [room, n] of Object.entries(part.sentByRoom)) {
      sent.sentByRoom[room] = (sent.sentByRoom[room] ?? 0) + n;
    }
  };

  await chat(settings.calmMs);
  const meter = await cpuMeter(ctx);
  const killedAt = now();
  await ctx.system.cluster.admin("POST", `/instances/${victim}/kill`);
  const deadline = killedAt + settings.maxWaitMs;
  const profiling = new Set<string>();
  for (;;) {
    await chat(500);
    await meter.observe();
    if (ctx.profileDir !== undefined && measured) {
      for (const i of await ctx.system.running()) {
        if (i.id in connect.byInstance || profiling.has(i.id)) continue;
        profiling.add(i.id);
        await startCpuProfile(i.pid, ctx.system.probeDir);
      }
    }
    const storm = await ctx.load.storm(ctx.group);
    const affected = storm.filter((c) => c.instanceBefore === victim);
    if (affected.every((c) => c.backAt !== undefined) || now() > deadline) break;
  }
  const stormSeconds = (now() - killedAt) / 1000;
  const { cores } = await meter.stop();
  await chat(settings.calmMs);
  if (ctx.profileDir !== undefined && measured) {
    // The replacement instance started during the storm: its profile too.
    for (const i of await ctx.system.running()) {
      if (i.id in connect.byInstance) continue;
      await stopCpuProfile(
        i.pid,
        ctx.system.probeDir,
        join(ctx.profileDir, `${ctx.system.name}-storm-new-${i.id}.cpuprofile`),
      );
    }
  }

  let expected = 0;
  const members = membersOf(clients);
  for (const [room, n] of Object.entries(sent.sentByRoom)) {
    expected += n * (members.get(room) ?? 0);
  }
  await waitForDeliveries(ctx, expected, settings.drainMs);
  const storm = await ctx.load.storm(ctx.group);
  const receipts = await ctx.load.collect();
  const affected = storm.filter((c) => c.instanceBefore === victim);
  const landedOn: Record<string, number> = {};
  for (const c of affected) {
    const where = c.connected ? (c.instanceNow ?? "unknown") : "not connected";
    landedOn[where] = (landedOn[where] ?? 0) + 1;
  }
  const times = affected.flatMap((c) => (c.backAt === undefined ? [] : [c.backAt - killedAt]));
  const result: StormResult = {
    clients: connect.connected,
    rooms: settings.rooms,
    killed: victim,
    affected: affected.length,
    reconnected: times.length,
    reconnect: summarizeValues(times),
    attempts: summarizeValues(affected.map((c) => c.attempts)),
    landedOn,
    sent: sent.sent,
    expected,
    delivered: receipts.unique,
    lost: expected - receipts.unique,
    duplicates: receipts.duplicates,
    whileDisconnected: sent.whileDisconnected,
    sendErrors: receipts.sendErrors,
    resets: receipts.resets,
    presenceFrames: receipts.presenceFrames,
    presenceCountFrames: receipts.presenceCountFrames,
    cores,
    instanceCpuMsPerReconnect: (cores.instances * stormSeconds * 1000) / Math.max(1, times.length),
    stormSeconds,
  };
  ctx.log(
    `  ${ctx.system.name}${settings.label}: ${result.reconnected}/${result.affected} back, p50 ${Math.round(result.reconnect.p50)} ms, ` +
      `p99 ${Math.round(result.reconnect.p99)} ms, max ${Math.round(result.reconnect.max)} ms; ` +
      `${result.lost} of ${result.expected} deliveries lost, ${result.duplicates} duplicated; ` +
      `attempts p50 ${result.attempts.p50} max ${result.attempts.max}; landed on ${JSON.stringify(landedOn)}`,
  );
  await ctx.load.closeClients(ctx.group);
  return result;
}
