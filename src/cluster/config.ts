import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { z } from "zod";
import {
  configProblems,
  type EnvSettings,
  fromEnv,
  integerEnv,
  optionalIntegerEnv,
  readEnv,
  sharedEnv,
} from "../config/env.ts";

/** The repository root: instances run from here, so that `--import tsx` resolves. */
export const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** Scale limit: more instances than this on one machine is a typo, not a plan. */
export const MAX_INSTANCES = 32;

/** The Redis the supervisor runs when no REDIS_URL is given. */
export type LocalTopology = "single" | "sentinel" | "cluster";

/**
 * Every setting of the supervisor (`npm start`), read once from the
 * environment. Instances get the rest of the environment as it is (LOG_LEVEL,
 * NODE_ENV...), plus the settings below that concern them.
 */
const options = {
  /** Port of the router, the one to open in a browser. @default 3000 (PORT) */
  port: sharedEnv.port,
  /** Address the router listens on. @default all interfaces (HOST) */
  host: sharedEnv.host,
  /** Instances to run. @default 3 (INSTANCES) */
  instances: integerEnv("INSTANCES", 3, 1, MAX_INSTANCES),
  /** Used as it is when set; otherwise the supervisor runs its own Redis. (REDIS_URL) */
  redisUrl: sharedEnv.redisUrl,
  /**
   * The Redis the supervisor runs when REDIS_URL is not set: one
   * redis-server, a master and a replica behind three Sentinels, or a
   * Redis Cluster of three masters with a replica each. `--redis-sentinel`
   * and `--redis-cluster` choose the same. @default "single" (REDIS_TOPOLOGY)
   */
  redisTopology: fromEnv(
    "REDIS_TOPOLOGY",
    z
      .enum(["single", "sentinel", "cluster"], {
        error: "REDIS_TOPOLOGY must be single, sentinel or cluster",
      })
      .default("single"),
  ),
  /** Shared by every instance; when unset, one is generated once and kept in DATA_DIR. (SESSION_SECRET) */
  sessionSecret: sharedEnv.sessionSecret,
  /** @default "JSESSIONID" (SESSION_COOKIE_NAME) */
  sessionCookieName: sharedEnv.sessionCookieName,
  /** Redis data, logs and the generated secret, resolved from the working directory. @default ".data" (DATA_DIR) */
  dataDir: fromEnv(
    "DATA_DIR",
    z
      .string()
      .min(1)
      .default(".data")
      .transform((dir) => resolve(dir)),
  ),
  /** How long an instance drains on SIGTERM; passed to the instances. @default 10000 (DRAIN_TIMEOUT_MS) */
  drainTimeoutMs: sharedEnv.drainTimeoutMs,
  /** STOP_TIMEOUT_MS as given; `ClusterConfig.stopTimeoutMs` is the one used. */
  stopTimeoutMs: optionalIntegerEnv("STOP_TIMEOUT_MS", 100, 900_000),
  /** How long a new instance has to answer /healthz. @default 30000 (START_TIMEOUT_MS) */
  startTimeoutMs: integerEnv("START_TIMEOUT_MS", 30_000, 1000, 600_000),
  /**
   * Delay before a crashed instance is replaced while others are running;
   * doubles while replacements keep failing. Long enough for the crashed
   * instance's clients to settle on the others first: a start costs CPU,
   * which on a small machine would slow their reconnection. The last
   * instance is replaced at once. @default 5000 (RESTART_DELAY_MS)
   */
  restartDelayMs: integerEnv("RESTART_DELAY_MS", 5000, 0, 60_000),
  /**
   * The script each instance runs, relative to the repository: the build that
   * `npm start` makes first, or a TypeScript file (run through tsx).
   * @default "dist/server/main.js" (INSTANCE_ENTRY)
   */
  instanceEntry: fromEnv("INSTANCE_ENTRY", z.string().min(1).default("dist/server/main.js")),
  /** How long the router waits for an instance to start answering. @default 60000 (PROXY_TIMEOUT_MS) */
  proxyTimeoutMs: integerEnv("PROXY_TIMEOUT_MS", 60_000, 1000, 3_600_000),
};

export interface ClusterConfig extends Omit<EnvSettings<typeof options>, "stopTimeoutMs"> {
  /** After SIGTERM, how long before SIGKILL. @default DRAIN_TIMEOUT_MS + 5000 (STOP_TIMEOUT_MS) */
  stopTimeoutMs: number;
  /**
   * The Redis variables of the environment when one names a Redis to use
   * (REDIS_URL, REDIS_SENTINELS with REDIS_SENTINEL_MASTER, or
   * REDIS_CLUSTER_NODES): passed to the instances as they are. Undefined when
   * the supervisor runs its own.
   */
  givenRedis: Record<string, string> | undefined;
}

export class ClusterConfigError extends Error {
  override name = "ClusterConfigError";
}

/** `npm start -- --redis-sentinel` or `-- --redis-cluster`: the topology, when a flag names one. */
function topologyFlag(args: readonly string[]): LocalTopology | undefined {
  let values: { "redis-sentinel"?: boolean; "redis-cluster"?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: { "redis-sentinel": { type: "boolean" }, "redis-cluster": { type: "boolean" } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ClusterConfigError(
      configProblems([`${reason} (the options are --redis-sentinel and --redis-cluster)`]),
    );
  }
  const sentinel = values["redis-sentinel"] === true;
  const cluster = values["redis-cluster"] === true;
  if (sentinel && cluster) {
    throw new ClusterConfigError(configProblems(["choose --redis-sentinel or --redis-cluster"]));
  }
  return sentinel ? "sentinel" : cluster ? "cluster" : undefined;
}

/** The variables that name a Redis for the instances; an instance's own config decides which wins. */
const REDIS_VARIABLES = [
  "REDIS_URL",
  "REDIS_SENTINELS",
  "REDIS_SENTINEL_MASTER",
  "REDIS_CLUSTER_NODES",
] as const;

/**
 * The Redis variables set in `env` (the supervisor's environment), or
 * undefined when none names a Redis: then the supervisor runs its own.
 */
export function givenRedis(env: NodeJS.ProcessEnv): Record<string, string> | undefined {
  const given: Record<string, string> = {};
  for (const name of REDIS_VARIABLES) {
    const value = env[name];
    if (value !== undefined && value !== "") given[name] = value;
  }
  const names = given.REDIS_URL ?? given.REDIS_SENTINELS ?? given.REDIS_CLUSTER_NODES;
  return names === undefined ? undefined : given;
}

/**
 * Reads the environment and the command line (`args`: what follows
 * `npm start --`); a flag wins over REDIS_TOPOLOGY.
 */
export function loadClusterConfig(
  env: NodeJS.ProcessEnv = process.env,
  args: readonly string[] = process.argv.slice(2),
): ClusterConfig {
  const flag = topologyFlag(args);
  const settings = readEnv(options, env, (message) => new ClusterConfigError(message), {
    blankIsUnset: true,
  });
  const redisTopology = flag ?? settings.redisTopology;
  const given = givenRedis(env);
  if (given !== undefined && redisTopology !== "single") {
    const asked = flag === undefined ? `REDIS_TOPOLOGY=${redisTopology}` : `--redis-${flag}`;
    throw new ClusterConfigError(
      configProblems([
        `${asked} starts a Redis of its own, and ${Object.keys(given).join(", ")} names one to use: drop one of them`,
      ]),
    );
  }
  return {
    ...settings,
    redisTopology,
    givenRedis: given,
    stopTimeoutMs: settings.stopTimeoutMs ?? settings.drainTimeoutMs + 5000,
  };
}
