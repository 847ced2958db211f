import { setTimeout as delay } from "node:timers/promises";
import { percentile } from "../harness/stats.ts";
import { StoredHistory } from "./history.ts";
import { ChatLoad, type LoadOptions } from "./load.ts";

/** What the chaos run needs from a cluster: the router, the admin API and Redis. */
export interface ClusterControl {
  routerUrl: string;
  redisUrl: string;
  instances(): Promise<{ id: string; state: string; sockets: number }[]>;
  kill(id: string): Promise<void>;
  stop(id: string): Promise<void>;
  scale(n: number): Promise<void>;
  restart(strategy: "all" | "rolling"): Promise<void>;
  restartRedis(): Promise<void>;
}

export interface ChaosOptions extends Omit<LoadOptions, "routerUrl"> {
  /** How long clients chat before and after each disruption (ms). */
  chatMs: number;
  /** Bound on waiting for the clients to settle after a step (ms). */
  settleTimeoutMs: number;
  instances: number;
  log?: (line: string) => void;
}

export interface StepResult {
  step: string;
  clientsAffected: number;
  reconnectP50: number;
  reconnectP99: number;
  reconnectMax: number;
  lost: number;
  duplicates: number;
  /** Sends that never reached the history, and sends stored twice. */
  undelivered: number;
  storedTwice: number;
  outOfOrder: number;
  resets: number;
  settled: boolean;
}

type Step = { name: string; run: (control: ClusterControl) => Promise<void> };

async function busiest(control: ClusterControl): Promise<string> {
  const running = (await control.instances()).filter((i) => i.state === "running");
  running.sort((x, y) => y.sockets - x.sockets);
  const id = running[0]?.id;
  if (id === undefined) throw new Error("no running instance");
  return id;
}

export const CHAOS_STEPS: Step[] = [
  { name: "kill -9 one instance", run: async (c) => c.kill(await busiest(c)) },
  { name: "SIGTERM one instance (drain)", run: async (c) => c.stop(await busiest(c)) },
  {
    name: "scale 3 → 2 → 3",
    run: async (c) => {
      await c.scale(2);
      await c.scale(3);
    },
  },
  { name: "restart all at once", run: (c) => c.restart("all") },
  { name: "rolling restart", run: (c) => c.restart("rolling") },
  { name: "restart Redis", run: (c) => c.restartRedis() },
];

async function waitRunning(control: ClusterControl, n: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const running = (await control.instances()).filter((i) => i.state === "running");
    if (running.length >= n) return;
    if (Date.now() > deadline) throw new Error(`fewer than ${n} instances running`);
    await delay(100);
  }
}

/**
 * Chats continuously through the cluster while it is disrupted step by step;
 * after each step, waits for every client to settle and checks what each one
 * showed against what Redis stored.
 */
export async function runChaos(
  control: ClusterControl,
  options: ChaosOptions,
  steps: Step[] = CHAOS_STEPS,
): Promise<StepResult[]> {
  const log = options.log ?? (() => undefined);
  const load = new ChatLoad({ ...options, routerUrl: control.routerUrl });
  const history = await StoredHistory.connect(control.redisUrl);
  const results: StepResult[] = [];
  let previous = { lost: 0, duplicates: 0, undelivered: 0, storedTwice: 0, outOfOrder: 0 };
  try {
    log(`connecting ${options.clients} clients over ${options.rooms.length} rooms`);
    await load.connect(`c${Date.now().toString(36)}`);
    for (const step of steps) {
      const before = load.clients.map(({ ledger }) => ledger.reconnects.length);
      const resetsBefore = load.clients.map(({ ledger }) => ledger.resets);
      load.startSending();
      await delay(options.chatMs);
      log(`step: ${step.name}`);
      await step.run(control);
      await waitRunning(control, options.instances, 60_000);
      await delay(options.chatMs);
      load.stopSending();
      const settled = await settle(load, history, options);
      const totals = await check(step.name, load, history, options.rooms, before, resetsBefore);
      // The ledgers check the whole run each time: report what this step added.
      results.push({
        ...totals,
        lost: totals.lost - previous.lost,
        duplicates: totals.duplicates - previous.duplicates,
        undelivered: totals.undelivered - previous.undelivered,
        storedTwice: totals.storedTwice - previous.storedTwice,
        outOfOrder: totals.outOfOrder - previous.outOfOrder,
        settled,
      });
      previous = totals;
      log(`  ${JSON.stringify(results.at(-1))}`);
    }
  } finally {
    load.close();
    await history.close();
  }
  return results;
}

async function settle(load: ChatLoad, history: StoredHistory, options: ChaosOptions) {
  const deadline = Date.now() + options.settleTimeoutMs;
  for (;;) {
    // Redis may be coming back from a restart: keep asking.
    const latest = await history.latest(options.rooms).catch(() => undefined);
    if (latest !== undefined && load.settled(latest)) return true;
    if (Date.now() > deadline) return false;
    await delay(100);
  }
}

async function check(
  step: string,
  load: ChatLoad,
  history: StoredHistory,
  rooms: string[],
  reconnectsBefore: number[],
  resetsBefore: number[],
): Promise<Omit<StepResult, "settled">> {
  const stored = new Map(
    await Promise.all(rooms.map(async (r) => [r, await history.all(r)] as const)),
  );
  const storedIds = new Map<string, number>();
  for (const messages of stored.values()) {
    for (const m of messages) storedIds.set(m.clientId, (storedIds.get(m.clientId) ?? 0) + 1);
  }
  let lost = 0;
  let duplicates = 0;
  let undelivered = 0;
  let outOfOrder = 0;
  let resets = 0;
  let affected = 0;
  const times: number[] = [];
  load.clients.forEach(({ ledger, rooms: own }, index) => {
    for (const room of own) {
      const result = ledger.check(room, stored.get(room) ?? []);
      lost += result.lost;
      duplicates += result.duplicates;
    }
    for (const clientId of ledger.sent) if (!storedIds.has(clientId)) undelivered += 1;
    outOfOrder += ledger.outOfOrder;
    resets += ledger.resets - (resetsBefore[index] ?? 0);
    const fresh = ledger.reconnects.slice(reconnectsBefore[index] ?? 0);
    if (fresh.length > 0 || ledger.isDown) affected += 1;
    times.push(...fresh);
  });
  let storedTwice = 0;
  for (const count of storedIds.values()) if (count > 1) storedTwice += count - 1;
  return {
    step,
    clientsAffected: affected,
    reconnectP50: percentile(times, 50),
    reconnectP99: percentile(times, 99),
    reconnectMax: times.length === 0 ? Number.NaN : Math.max(...times),
    lost,
    duplicates,
    undelivered,
    storedTwice,
    outOfOrder,
    resets,
  };
}
