import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { createClient } from "redis";
import { RedisServer } from "../../src/cluster/redis/server.ts";
import { ClusterProcess } from "../harness/cluster-process.ts";
import { probeStats } from "../harness/proc-stats.ts";
import { type LoadCounts, SoakLoad } from "./load.ts";

const PROBE = pathToFileURL(join(import.meta.dirname, "../harness/memory-probe.mjs")).href;

export interface SoakOptions {
  minutes: number;
  rooms: number;
  chatters: number;
  sendIntervalMs: number;
  visitorAccounts: number;
  visitIntervalMs: number;
  /** @default 10000 */
  sampleMs: number;
  /** When (share of the run) one instance is restarted (SIGTERM, drained, replaced). */
  restartAt: number;
  historySize: number;
  sessionTtlSeconds: number;
  /** What the instances run: the build (`dist/server/main.js`) or the source. */
  instanceEntry: string;
  log: (line: string) => void;
  /**
   * Ends the run early (SIGTERM or SIGINT): the load stops, and the result
   * holds the samples taken so far, marked with when it ended. @default none
   */
  stop?: AbortSignal;
}

export interface InstanceSample {
  id: string;
  heapUsed: number;
  rss: number;
  handles: number;
  lagP99: number;
  lagMax: number;
  sockets: number;
}

export interface Sample {
  /** Seconds since the load started. */
  t: number;
  redisUsed: number;
  redisKeys: number;
  instances: InstanceSample[];
  counts: LoadCounts;
  connected: number;
  unsent: number;
}

export interface SoakResult {
  options: Omit<SoakOptions, "log" | "stop">;
  started: Date;
  samples: Sample[];
  /** Seconds since the start at which the instance was restarted, and which. */
  restart: { t: number; id: string } | undefined;
  /** The final counts, after the load stopped and settled. */
  counts: LoadCounts;
  /** Lines at level warn or above that the instances and the supervisor logged. */
  problems: string[];
  /** Minutes of load after which the run was ended early (`stop`); absent when it ran its course. */
  endedEarlyAt?: number;
}

/** Waits `ms`, or less when `stop` fires meanwhile. */
function delay(ms: number, stop?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (stop?.aborted === true) {
      resolve();
      return;
    }
    const done = () => {
      clearTimeout(timer);
      stop?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    stop?.addEventListener("abort", done, { once: true });
  });
}

/** How long the load may take to settle when the run is ended early: the user is waiting. */
const EARLY_STOP_SETTLE_MS = 10_000;

/**
 * Runs the soak: its own Redis, a 3-instance local cluster with the memory
 * probe preloaded, the load through the router, a sample every `sampleMs`,
 * and one instance restart along the way. Everything it started is stopped,
 * also when it fails.
 */
export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const { log } = options;
  const redis = await RedisServer.start({ persistence: false });
  const probeDir = await mkdtemp(join(tmpdir(), "sb-soak-probe-"));
  let cluster: ClusterProcess | undefined;
  let load: SoakLoad | undefined;
  const db = createClient({ url: redis.url });
  db.on("error", () => undefined);
  try {
    await db.connect();
    cluster = await ClusterProcess.start({
      instances: 3,
      env: {
        REDIS_URL: redis.url,
        NODE_ENV: "production",
        LOG_LEVEL: "warn",
        SESSION_SECRET: "soak-session-secret-0123456789",
        INSTANCE_ENTRY: options.instanceEntry,
        HISTORY_SIZE: String(options.historySize),
        SESSION_TTL_SECONDS: String(options.sessionTtlSeconds),
        AUTH_ATTEMPTS_PER_MINUTE: "100000",
        DRAIN_TIMEOUT_MS: "5000",
        NODE_OPTIONS: `--expose-gc --import=${PROBE}`,
        SB_BENCH_PROBE_DIR: probeDir,
      },
    });
    const rooms = Array.from({ length: options.rooms }, (_unused, i) => `soak-${i}`);
    load = new SoakLoad({
      routerUrl: cluster.url,
      rooms,
      chatters: options.chatters,
      sendIntervalMs: options.sendIntervalMs,
      visitorAccounts: options.visitorAccounts,
      visitIntervalMs: options.visitIntervalMs,
      lostAfterMs: 60_000,
      // A quarter of the session TTL: the clients that stay keep their sessions.
      sessionRefreshMs: Math.max(5000, (options.sessionTtlSeconds * 1000) / 4),
      log,
    });
    log(`cluster up at ${cluster.url}; starting the load`);
    await load.start();
    const started = new Date();
    const startMs = Date.now();
    const endMs = startMs + options.minutes * 60_000;
    const restartMs = startMs + options.restartAt * options.minutes * 60_000;
    let restart: SoakResult["restart"];
    const samples: Sample[] = [];
    const take = async (): Promise<Sample> => {
      load?.sweep();
      const sample = await takeSample(db, cluster as ClusterProcess, probeDir, load as SoakLoad);
      sample.t = Math.round((Date.now() - startMs) / 1000);
      samples.push(sample);
      log(progressLine(sample));
      return sample;
    };
    await take();
    const stop = options.stop;
    for (let next = startMs + options.sampleMs; next <= endMs; next += options.sampleMs) {
      await delay(Math.max(0, next - Date.now()), stop);
      if (stop?.aborted === true) break;
      if (restart === undefined && Date.now() >= restartMs) {
        restart = await restartOne(cluster, startMs);
        log(`restarted ${restart.id} at ${restart.t} s`);
      }
      await take();
    }
    let endedEarlyAt: number | undefined;
    if (stop?.aborted === true) {
      endedEarlyAt = (Date.now() - startMs) / 60_000;
      log(`ended early at ${endedEarlyAt.toFixed(1)} min; stopping the load`);
      await load.stop(EARLY_STOP_SETTLE_MS);
    } else {
      log("stopping the load; waiting for outboxes and the observer");
      await load.stop();
      await take();
    }
    return {
      options: withoutLog(options),
      started,
      samples,
      restart,
      counts: { ...load.counts },
      problems: await problemLines(join(cluster.dataDir, "logs")),
      ...(endedEarlyAt === undefined ? {} : { endedEarlyAt }),
    };
  } finally {
    load?.close();
    await cluster?.stop().catch(() => undefined);
    await db.close().catch(() => undefined);
    await redis.close();
    await rm(probeDir, { recursive: true, force: true });
  }
}

function withoutLog(options: SoakOptions): Omit<SoakOptions, "log" | "stop"> {
  const { log: _log, stop: _stop, ...rest } = options;
  return rest;
}

/** The busiest running instance is stopped (it drains); the supervisor starts a replacement. */
async function restartOne(cluster: ClusterProcess, startMs: number) {
  const running = await cluster.running();
  running.sort((x, y) => y.sockets - x.sockets);
  const id = running[0]?.id;
  if (id === undefined) throw new Error("no running instance to restart");
  await cluster.admin("POST", `/instances/${id}/stop`);
  return { t: Math.round((Date.now() - startMs) / 1000), id };
}

async function takeSample(
  db: ReturnType<typeof createClient>,
  cluster: ClusterProcess,
  probeDir: string,
  load: SoakLoad,
): Promise<Sample> {
  const [info, keys, listed] = await Promise.all([
    db.info("memory"),
    db.dbSize(),
    cluster.running(),
  ]);
  const instances = await Promise.all(
    listed.map(async (instance): Promise<InstanceSample | undefined> => {
      const stats = await probeStats(instance.pid, probeDir);
      if (stats === undefined) return undefined;
      return {
        id: instance.id,
        heapUsed: stats.heapUsed,
        rss: stats.rss,
        handles: stats.handles,
        lagP99: stats.lag.p99,
        lagMax: stats.lag.max,
        sockets: instance.sockets,
      };
    }),
  );
  return {
    t: 0,
    redisUsed: Number(/used_memory:(\d+)/.exec(info)?.[1] ?? Number.NaN),
    redisKeys: keys,
    instances: instances.filter((i): i is InstanceSample => i !== undefined),
    counts: { ...load.counts },
    connected: load.connected,
    unsent: load.unsent,
  };
}

function progressLine(s: Sample): string {
  const mb = (bytes: number) => (bytes / 1e6).toFixed(2);
  const inst = s.instances
    .map(
      (i) =>
        `${i.id} heap ${mb(i.heapUsed)} rss ${mb(i.rss)} h ${i.handles} lag99 ${i.lagP99.toFixed(0)}`,
    )
    .join(" | ");
  const c = s.counts;
  return `t=${s.t}s redis ${mb(s.redisUsed)} MB ${s.redisKeys} keys | acked ${c.acked} delivered ${c.delivered} lost ${c.lost} | connected ${s.connected} unsent ${s.unsent} | ${inst}`;
}

/** Log lines of level warn (40) or above in the instances' log files (pino's JSON lines). */
async function problemLines(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const name of await readdir(dir).catch(() => [])) {
    const text = await readFile(join(dir, name), "utf8").catch(() => "");
    for (const line of text.split("\n")) {
      if (/"level":(4|5|6)0\b/.test(line)) found.push(`${name}: ${line.slice(0, 300)}`);
    }
  }
  return found;
}
