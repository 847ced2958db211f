import { join } from "node:path";
import { probeMemory, rssBytes } from "../harness/proc-stats.ts";
import type { ClientSpec } from "../load/ipc.ts";
import { now } from "../load/stamp.ts";
import { cpuMeter, type ScenarioContext, sleep, summarize, waitForDeliveries } from "./context.ts";
import type { ConnectionsResult, InstanceMemory } from "./results.ts";
import { COOKIE_NAME } from "./systems.ts";

interface Sockets {
  sockets: number;
}

async function socketsOf(port: number): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}/healthz`);
  return ((await res.json()) as Sockets).sockets;
}

async function memoryOf(pid: number, probeDir: string, snapshot?: string) {
  const probed = await probeMemory(pid, probeDir, snapshot);
  return { heap: probed?.heapUsed ?? Number.NaN, rss: rssBytes(pid) };
}

/**
 * Scenario 3, idle connections: clients connect straight to the instances'
 * ports (through the router each would cost it two file descriptors, and the
 * machine allows 20,000), all logged in, all in one room. Per instance: heap
 * (after a full GC, from the memory probe) and RSS before and after, divided
 * by its sockets. Then one message must reach every one of them.
 */
export async function runConnections(ctx: ScenarioContext): Promise<ConnectionsResult> {
  const settings = ctx.config.connections;
  const instances = await ctx.system.running();
  const sessions = ctx.system.sessions;
  await sleep(settings.idleMs);
  const snapshot = (id: string, when: string) =>
    ctx.profileDir === undefined
      ? undefined
      : join(ctx.profileDir, `${ctx.system.name}-connections-${id}-${when}.heapsnapshot`);
  const before = await Promise.all(
    instances.map((i) => memoryOf(i.pid, ctx.system.probeDir, snapshot(i.id, "before"))),
  );
  const clients: ClientSpec[] = Array.from({ length: settings.clients }, (_unused, index) => ({
    system: ctx.system.name,
    group: ctx.group,
    index,
    url: `http://127.0.0.1:${instances[index % instances.length]?.port}`,
    cookie: { name: COOKIE_NAME, value: sessions[index % sessions.length] ?? "" },
    rooms: ["idle"],
  }));
  const meter = await cpuMeter(ctx);
  const started = now();
  const connect = await ctx.load.connect(clients, {
    concurrency: settings.concurrency,
    timeoutMs: settings.timeoutMs,
  });
  const connectSeconds = (now() - started) / 1000;
  const { cores: connectCores } = await meter.stop();
  ctx.log(
    `  ${ctx.system.name}: ${connect.connected} of ${settings.clients} connected in ${connectSeconds.toFixed(1)} s` +
      ` (cores: instances ${connectCores.instances.toFixed(2)}, redis ${connectCores.redis.toFixed(2)}, ` +
      `load ${connectCores.load.toFixed(2)}, other ${connectCores.other.toFixed(2)})` +
      (connect.failed > 0 ? ` (${connect.failed} failed: ${connect.errors[0]})` : ""),
  );
  await sleep(settings.idleMs);
  const memory: InstanceMemory[] = [];
  for (const [k, instance] of instances.entries()) {
    const after = await memoryOf(instance.pid, ctx.system.probeDir, snapshot(instance.id, "after"));
    const sockets = await socketsOf(instance.port);
    const was = before[k] ?? { heap: Number.NaN, rss: Number.NaN };
    memory.push({
      id: instance.id,
      sockets,
      heapBefore: was.heap,
      heapAfter: after.heap,
      rssBefore: was.rss,
      rssAfter: after.rss,
      heapPerConnection: (after.heap - was.heap) / sockets,
      rssPerConnection: (after.rss - was.rss) / sockets,
    });
  }
  const mean = (values: number[]) => values.reduce((sum, v) => sum + v, 0) / values.length;

  // One message, from one client, to all of them.
  await ctx.load.begin(ctx.tag, 0);
  await ctx.load.send(ctx.group, 1, 0);
  await waitForDeliveries(ctx, connect.connected, 30_000);
  const receipts = await ctx.load.collect();
  ctx.log(
    `  ${ctx.system.name}: one message reached ${receipts.unique} of ${connect.connected} in ${Math.round(receipts.latency.max)} ms`,
  );

  await ctx.load.closeClients(ctx.group);
  const deadline = now() + 60_000;
  for (const instance of instances) {
    while (now() < deadline && (await socketsOf(instance.port)) > 0) await sleep(200);
  }
  return {
    clients: settings.clients,
    connected: connect.connected,
    failed: connect.failed,
    errors: connect.errors,
    connectSeconds,
    connectRate: connect.connected / connectSeconds,
    instances: memory,
    heapPerConnection: mean(memory.map((m) => m.heapPerConnection)),
    rssPerConnection: mean(memory.map((m) => m.rssPerConnection)),
    broadcast: {
      expected: connect.connected,
      delivered: receipts.unique,
      lost: connect.connected - receipts.unique,
      latency: summarize(receipts.latency),
    },
    connectCores,
    instanceCpuMsPerConnection:
      (connectCores.instances * connectSeconds * 1000) / connect.connected,
    loadCpuMsPerConnection: (connectCores.load * connectSeconds * 1000) / connect.connected,
  };
}
