import { randomBytes } from "node:crypto";
import { RedisSentinelServer } from "../../src/cluster/redis/sentinel.ts";
import type { LoadGenerator } from "../load/load-generator.ts";
import { onInterrupt } from "./cleanup.ts";
import type { BenchConfig } from "./config.ts";
import { runLatencySideBySide } from "./latency.ts";
import type { ReplicaAckResult } from "./results.ts";
import { RunningSystem } from "./systems.ts";
import { connectThroughputClients, type ThroughputRun } from "./throughput.ts";

const SETTINGS = ["on", "off"] as const;

/**
 * Scenario 7, the replica acknowledgement on and off, side by side: one
 * Redis master with one replica and three Sentinels (`RedisSentinelServer`),
 * and two Switchboard clusters on it, one with `REDIS_REPLICA_ACK=on` (a
 * send waits for the replica, `WAIT`, before it is acknowledged and
 * published), one with `off`. Both share the master, so the only difference
 * is the acknowledgement. The fixed-load latency scenario then runs on both,
 * in alternating rounds (`runLatencySideBySide`), at the latency scenario's
 * rate; each setting's figures are those of its median round by p99.
 */
export async function runReplicaAck(
  config: BenchConfig,
  load: LoadGenerator,
  log: (line: string) => void,
): Promise<ReplicaAckResult> {
  log("\nreplica-ack: a master, a replica and three Sentinels; acknowledgement on and off");
  // A Sentinel that declared the master down would fail over mid-run: give it time.
  const redis = await RedisSentinelServer.start({ replicas: 1, downAfterMs: 10_000 });
  const forgetRedis = onInterrupt(() => redis.close());
  const systems: RunningSystem[] = [];
  try {
    const master = await redis.master();
    const start = async (ack: (typeof SETTINGS)[number]): Promise<ThroughputRun> => {
      const system = await RunningSystem.start(
        "switchboard",
        {
          instances: config.instances,
          sessions: config.sessions,
          router: config.router,
          env: {
            // The supervisor starts no Redis of its own; the instances ask the Sentinels.
            REDIS_URL: master.url,
            REDIS_SENTINELS: redis.sentinelUrls.join(","),
            REDIS_SENTINEL_MASTER: redis.masterName,
            REDIS_REPLICA_ACK: ack,
            // Keys and channels of their own: the two clusters' rooms have the same names.
            KEY_PREFIX: `sb-ack-${ack}`,
          },
        },
        log,
      );
      systems.push(system);
      const run = await connectThroughputClients({
        config,
        system,
        load,
        log,
        tag: `ack${ack}${randomBytes(3).toString("hex")}`,
        group: `switchboard-replica-ack-${ack}`,
        label: `ack ${ack}`,
      });
      return run;
    };
    // Side by side when the run does not wait for a quiet machine (the tiny run), else one after the other.
    // Both settle before a failure is thrown, so that the finally below stops both clusters.
    const started: ThroughputRun[] = [];
    const outcomes =
      config.quietWaitMs === 0
        ? await Promise.allSettled(SETTINGS.map(start))
        : [await start("on"), await start("off")].map((value) => ({
            status: "fulfilled" as const,
            value,
          }));
    for (const outcome of outcomes) {
      if (outcome.status === "rejected") throw outcome.reason;
      started.push(outcome.value);
    }
    const rate = config.latency.rate ?? config.latency.fallbackRate;
    const byRun = await runLatencySideBySide(started, rate, `fixed ${rate} sends/s`);
    const [on, off] = started.map((run) => byRun.get(run));
    if (on === undefined || off === undefined) throw new Error("a setting has no latency round");
    log(
      `  median p99: acknowledgement on ${on.step.latency.p99.toFixed(1)} ms, ` +
        `off ${off.step.latency.p99.toFixed(1)} ms (${(on.step.latency.p99 / off.step.latency.p99).toFixed(2)}x)`,
    );
    return { sendRate: rate, on, off };
  } finally {
    // Every setting's group, also one whose clients connected only in part.
    for (const ack of SETTINGS) {
      await load.closeClients(`switchboard-replica-ack-${ack}`).catch(() => {});
    }
    for (const system of systems) await system.stop().catch(() => {});
    await redis.close();
    forgetRedis();
  }
}
