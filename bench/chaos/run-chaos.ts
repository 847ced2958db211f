import { setTimeout as delay } from "node:timers/promises";
import type { RedisTarget } from "../../src/server/config.ts";
import { percentile } from "../harness/stats.ts";
import { StoredHistory } from "./history.ts";
import { ChatLoad, type LoadOptions } from "./load.ts";
import type { ChaosRedisMode, MasterKill } from "./redis-topology.ts";

/** What the chaos run needs from a cluster: the router, the admin API and Redis. */
export interface ClusterControl {
  routerUrl: string;
  redisTarget: RedisTarget;
  instances(): Promise<{ id: string; state: string; sockets: number }[]>;
  kill(id: string): Promise<void>;
  stop(id: string): Promise<void>;
  scale(n: number): Promise<void>;
  restart(strategy: "all" | "rolling"): Promise<void>;
  restartRedis(): Promise<void>;
  /** `kill -9` of the Redis master that holds the first of `rooms`. */
  killRedisMaster(rooms: readonly string[]): Promise<MasterKill>;
  /** Brings a killed Redis node back, so that the next kill has a replica to fail over to. */
  healRedis(): Promise<void>;
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
  /** Messages a client showed that the history does not hold (a failover took them back). */
  takenBack: number;
  resets: number;
  settled: boolean;
  /** After a Redis master's kill: until Redis itself served the affected rooms again (ms). */
  redisFailoverMs?: number;
  /** After a Redis master's kill: until a send to every affected room was stored again (ms). */
  sendsBackMs?: number;
}

/** What a step may hand back: a Redis kill. */
type StepOutcome = MasterKill;

export interface StepContext {
  rooms: readonly string[];
}

type Step = {
  name: string;
  run: (control: ClusterControl, context: StepContext) => Promise<StepOutcome | undefined>;
};

async function busiest(control: ClusterControl): Promise<string> {
  const running = (await control.instances()).filter((i) => i.state === "running");
  running.sort((x, y) => y.sockets - x.sockets);
  const id = running[0]?.id;
  if (id === undefined) throw new Error("no running instance");
  return id;
}

const done = async (work: Promise<void>): Promise<undefined> => {
  await work;
  return undefined;
};

export const CHAOS_STEPS: Step[] = [
  { name: "kill -9 one instance", run: async (c) => done(c.kill(await busiest(c))) },
  { name: "SIGTERM one instance (drain)", run: async (c) => done(c.stop(await busiest(c))) },
  {
    name: "scale 3 → 2 → 3",
    run: async (c) => {
      await c.scale(2);
      await c.scale(3);
      return undefined;
    },
  },
  { name: "restart all at once", run: (c) => done(c.restart("all")) },
  { name: "rolling restart", run: (c) => done(c.restart("rolling")) },
  { name: "restart Redis", run: (c) => done(c.restartRedis()) },
];

/**
 * `kill -9` of the Redis master of the first room (on one Redis: of the
 * Redis, which is then started again with its append-only file).
 */
export const REDIS_MASTER_STEP: Step = {
  name: "kill -9 a Redis master",
  run: async (c, context) => {
    return c.killRedisMaster(context.rooms);
  },
};

/**
 * The steps of a run on a Redis topology: the six above and the Redis kill
 * on one Redis; on Sentinel and Cluster the instance steps and the kill (a
 * graceful restart of one Redis is not a step there).
 */
export function chaosSteps(mode: ChaosRedisMode): Step[] {
  return mode === "single"
    ? [...CHAOS_STEPS, REDIS_MASTER_STEP]
    : [...CHAOS_STEPS.slice(0, 5), REDIS_MASTER_STEP];
}

/**
 * Milliseconds from the kill until, in every affected room, a send made
 * after the kill was acknowledged (stored, and on a replica where there is one).
 */
function sendsBack(load: ChatLoad, outcome: StepOutcome): number {
  let worst = 0;
  for (const room of outcome.affected) {
    const first = load.acks.find((ack) => ack.room === room && ack.sentAt >= outcome.killedAt);
    if (first === undefined) return Number.NaN;
    worst = Math.max(worst, first.at - outcome.killedAt);
  }
  return worst;
}

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
  const history = await StoredHistory.connect(control.redisTarget);
  const results: StepResult[] = [];
  let previous = {
    lost: 0,
    duplicates: 0,
    undelivered: 0,
    storedTwice: 0,
    outOfOrder: 0,
    takenBack: 0,
  };
  const context: StepContext = { rooms: options.rooms };
  try {
    log(`connecting ${options.clients} clients over ${options.rooms.length} rooms`);
    await load.connect(`c${Date.now().toString(36)}`);
    for (const step of steps) {
      const before = load.clients.map(({ ledger }) => ledger.reconnects.length);
      const resetsBefore = load.clients.map(({ ledger }) => ledger.resets);
      load.startSending();
      await delay(options.chatMs);
      log(`step: ${step.name}`);
      const outcome = await step.run(control, context);
      await waitRunning(control, options.instances, 60_000);
      await delay(options.chatMs);
      // A failover's sends are measured: keep chatting until every affected room took one.
      const bound = Date.now() + options.settleTimeoutMs;
      while (
        outcome !== undefined &&
        Number.isNaN(sendsBack(load, outcome)) &&
        Date.now() < bound
      ) {
        await delay(100);
      }
      load.stopSending();
      const settled = await settle(load, history, options);
      const totals = await retry(() =>
        check(step.name, load, history, options.rooms, before, resetsBefore),
      );
      // The ledgers check the whole run each time: report what this step added.
      results.push({
        ...totals,
        lost: totals.lost - previous.lost,
        duplicates: totals.duplicates - previous.duplicates,
        undelivered: totals.undelivered - previous.undelivered,
        storedTwice: totals.storedTwice - previous.storedTwice,
        outOfOrder: totals.outOfOrder - previous.outOfOrder,
        takenBack: totals.takenBack - previous.takenBack,
        settled,
        ...(outcome === undefined
          ? {}
          : {
              redisFailoverMs: await outcome.redisBack.catch(() => Number.NaN),
              sendsBackMs: sendsBack(load, outcome),
            }),
      });
      previous = totals;
      log(`  ${JSON.stringify(results.at(-1))}`);
      // The next kill needs a replica again: the killed node comes back as one.
      if (outcome !== undefined) await control.healRedis();
    }
  } finally {
    load.close();
    await history.close();
  }
  return results;
}

/** Reads the history again while Redis fails over (a read answers `unavailable` meanwhile). */
async function retry<T>(read: () => Promise<T>, attempts = 30): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await read();
    } catch (error) {
      if (attempt >= attempts) throw error;
      await delay(1000);
    }
  }
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
  let takenBack = 0;
  let resets = 0;
  let affected = 0;
  const times: number[] = [];
  load.clients.forEach(({ ledger, rooms: own }, index) => {
    for (const room of own) {
      const result = ledger.check(room, stored.get(room) ?? []);
      lost += result.lost;
      duplicates += result.duplicates;
      takenBack += result.takenBack;
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
    takenBack,
    resets,
  };
}
