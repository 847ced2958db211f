import { randomBytes } from "node:crypto";
import { z } from "zod";
import {
  commaList,
  configProblems,
  type EnvSettings,
  fromEnv,
  integerEnv,
  plainName,
  readEnv,
  sharedEnv,
} from "../config/env.ts";
import { redisFromVcap } from "./vcap-redis.ts";

/**
 * Every setting of an instance: the environment variable it is read from,
 * its rules and default, read once and validated at start-up. The README's
 * configuration table mirrors this table.
 */
const options = {
  /** Read only to tell production (NODE_ENV=production) from the rest. */
  nodeEnv: fromEnv("NODE_ENV", z.string().optional()),
  /** HTTP port. @default 3000 (PORT; Cloud Foundry sets it) */
  port: sharedEnv.port,
  /** Address to listen on. @default all interfaces (HOST) */
  host: sharedEnv.host,
  /** REDIS_URL as given; `Config.redisUrl` is the one used. */
  redisUrl: sharedEnv.redisUrl,
  /**
   * Seed nodes of a Redis Cluster (REDIS_CLUSTER_NODES, comma-separated
   * redis:// URLs). When set, REDIS_URL is not used: keys are spread over the
   * cluster's shards and messages travel by sharded pub/sub. @default none
   */
  redisClusterNodes: fromEnv(
    "REDIS_CLUSTER_NODES",
    commaList(/^rediss?:\/\//, "REDIS_CLUSTER_NODES must be redis:// URLs, comma-separated"),
  ),
  /**
   * Sentinels of a Redis master and replicas (REDIS_SENTINELS, comma-separated
   * redis:// URLs; credentials in a URL are used for the Sentinels and the
   * data nodes). When set, REDIS_URL is not used: every Redis use goes to the
   * master the Sentinels name and follows it through a failover. @default none
   */
  redisSentinels: fromEnv(
    "REDIS_SENTINELS",
    commaList(
      /^rediss?:\/\/[^/\s]+:\d+\/?$/,
      "REDIS_SENTINELS must be redis://host:port URLs, comma-separated",
    ),
  ),
  /** The master's name at the Sentinels (REDIS_SENTINEL_MASTER); required with REDIS_SENTINELS. */
  redisSentinelMaster: fromEnv(
    "REDIS_SENTINEL_MASTER",
    plainName("REDIS_SENTINEL_MASTER must be 1-64 of A-Z, a-z, 0-9, _, . and -").optional(),
  ),
  /**
   * Acknowledge a message only once at least one replica has it (WAIT), and
   * publish it only then (REDIS_REPLICA_ACK: "auto", "on" or "off"). "auto"
   * turns it on when the master (on a Cluster, every master) has a replica at
   * start. @default "auto"
   */
  replicaAck: fromEnv(
    "REDIS_REPLICA_ACK",
    z
      .enum(["auto", "on", "off"], { error: "REDIS_REPLICA_ACK must be auto, on or off" })
      .default("auto"),
  ),
  /** How long a send waits for a replica before it answers `unavailable`. @default 500 (REDIS_REPLICA_ACK_TIMEOUT_MS) */
  replicaAckTimeoutMs: integerEnv("REDIS_REPLICA_ACK_TIMEOUT_MS", 500, 10, 60_000),
  /** Signs the session cookie. Required in production; in development one is shared through Redis. */
  sessionSecret: sharedEnv.sessionSecret,
  /**
   * Opens GET /metrics to requests with `Authorization: Bearer <token>`;
   * without it, only requests from this machine (not through a proxy) get
   * metrics. @default none (METRICS_TOKEN, at least 16 characters)
   */
  metricsToken: fromEnv(
    "METRICS_TOKEN",
    z.string().min(16, "METRICS_TOKEN must be at least 16 characters").optional(),
  ),
  /** @default "JSESSIONID": the name Cloud Foundry's router keys sticky sessions on */
  sessionCookieName: sharedEnv.sessionCookieName,
  /** Idle time after which a session expires. @default 604800 (7 days) */
  sessionTtlSeconds: integerEnv("SESSION_TTL_SECONDS", 604_800, 60, 31_536_000),
  /** INSTANCE_ID as given; `Config.instanceId` is the one used. */
  instanceId: fromEnv(
    "INSTANCE_ID",
    plainName("INSTANCE_ID must be 1-64 of A-Z, a-z, 0-9, _, . and -").optional(),
  ),
  /** Cloud Foundry's index of this instance, for its id. */
  cfInstanceIndex: fromEnv("CF_INSTANCE_INDEX", z.string().optional()),
  /** Cloud Foundry's bound services, where a Redis service is looked for. */
  vcapServices: fromEnv("VCAP_SERVICES", z.string().optional()),
  /** @default 2000 */
  maxMessageLength: integerEnv("MAX_MESSAGE_LENGTH", 2000, 1, 100_000),
  /** Messages kept per room. @default 1000 */
  historySize: integerEnv("HISTORY_SIZE", 1000, 10, 1_000_000),
  /** Prefix of every Redis key, so several deployments can share a Redis. @default "sb" */
  keyPrefix: fromEnv(
    "KEY_PREFIX",
    plainName("KEY_PREFIX must be 1-32 of A-Z, a-z, 0-9, _, . and -", 32).default("sb"),
  ),
  /** How long a draining instance waits for its clients to leave. @default 10000 */
  drainTimeoutMs: sharedEnv.drainTimeoutMs,
  /** Interval of the presence heartbeat; entries expire after three. @default 5000 */
  presenceHeartbeatMs: integerEnv("PRESENCE_HEARTBEAT_MS", 5000, 100, 600_000),
  /**
   * Joins and leaves in a room are announced together, once per this window
   * per instance; a user who leaves and comes back within it (a reconnect)
   * is not announced at all. @default 250
   */
  presenceWindowMs: integerEnv("PRESENCE_WINDOW_MS", 250, 0, 10_000),
  /**
   * Rooms with more members than this announce only their count (no names),
   * and relay no typing. @default 1000
   */
  presenceCountOnlyAbove: integerEnv("PRESENCE_COUNT_ONLY_ABOVE", 1000, 1, 10_000_000),
  /** Such rooms announce their count at most once per this interval per instance. @default 2000 */
  presenceCountIntervalMs: integerEnv("PRESENCE_COUNT_INTERVAL_MS", 2000, 0, 600_000),
  /** How often sockets are checked against their session. @default 30000 */
  sessionCheckMs: integerEnv("SESSION_CHECK_MS", 30_000, 100, 3_600_000),
  /** @default "info" */
  logLevel: fromEnv(
    "LOG_LEVEL",
    z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  ),
  /**
   * Origins (scheme://host[:port]) allowed besides the page's own, for
   * state-changing requests and the Socket.IO handshake. @default [] (ALLOWED_ORIGINS, comma-separated)
   */
  allowedOrigins: fromEnv(
    "ALLOWED_ORIGINS",
    commaList(
      /^https?:\/\/[^/\s]+$/,
      "ALLOWED_ORIGINS must be a comma-separated list of scheme://host[:port]",
    ),
  ),
  /**
   * Express "trust proxy": which peers may set X-Forwarded-* ("true", a hop
   * count, or addresses/subnets). @default "loopback, linklocal, uniquelocal"
   */
  trustProxy: fromEnv(
    "TRUST_PROXY",
    z
      .string()
      .min(1)
      .default("loopback, linklocal, uniquelocal")
      .transform((raw): boolean | number | string => {
        if (raw === "true" || raw === "false") return raw === "true";
        return /^\d+$/.test(raw) ? Number(raw) : raw;
      }),
  ),
  /** Steady chat messages per second per user, over all instances; 0 turns the limit off. @default 10 */
  messageRatePerSecond: integerEnv("MESSAGE_RATE_PER_SECOND", 10, 0, 100_000),
  /** Messages a user may send at once before the steady rate applies. @default 20 */
  messageBurst: integerEnv("MESSAGE_BURST", 20, 1, 100_000),
  /** Shortest interval between relayed typing events of one socket. @default 500 */
  typingIntervalMs: integerEnv("TYPING_INTERVAL_MS", 500, 0, 60_000),
  /** @default 50 */
  maxRoomsPerSocket: integerEnv("MAX_ROOMS_PER_SOCKET", 50, 1, 10_000),
  /** Sockets one login session may hold on one instance (tabs). @default 20 */
  maxSocketsPerSession: integerEnv("MAX_SOCKETS_PER_SESSION", 20, 1, 1_000_000),
  /** Largest Socket.IO message (bytes). @default 32768 */
  maxHttpBufferSize: integerEnv("MAX_HTTP_BUFFER_SIZE", 32_768, 1024, 10_000_000),
  /** Largest HTTP JSON body (bytes). @default 16384 */
  httpBodyLimit: integerEnv("HTTP_BODY_LIMIT", 16_384, 256, 10_000_000),
  /** Login and register attempts per address per minute. @default 60 */
  authAttemptsPerMinute: integerEnv("AUTH_ATTEMPTS_PER_MINUTE", 60, 1, 1_000_000),
  /** Failed logins on one name (15 minutes) before it is locked with growing back-off. @default 5 */
  authFailuresBeforeLock: integerEnv("AUTH_FAILURES_BEFORE_LOCK", 5, 1, 1000),
};

type Settings = EnvSettings<typeof options>;

/** Settings read only to work out others, and the raw forms of the derived ones. */
type Inputs = "nodeEnv" | "cfInstanceIndex" | "vcapServices" | "redisUrl" | "instanceId";

/** Every setting of an instance, as the rest of the code gets it. */
export interface Config extends Omit<Settings, Inputs> {
  /** @default "redis://127.0.0.1:6379" (REDIS_URL, or a Redis service in VCAP_SERVICES) */
  redisUrl: string;
  /** Which Redis topology the settings choose, with what it needs. */
  redis: RedisTarget;
  /** @default a short random id, or `cf-<CF_INSTANCE_INDEX>-<random>` on Cloud Foundry (INSTANCE_ID) */
  instanceId: string;
  /** NODE_ENV=production. */
  production: boolean;
}

/** One Redis, a master and replicas behind Sentinels, or a Redis Cluster. */
export type RedisTarget =
  | { mode: "single"; url: string }
  | { mode: "sentinel"; sentinels: string[]; masterName: string }
  | { mode: "cluster"; nodes: string[] };

export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Reads the configuration; throws a ConfigError that names every wrong setting. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const settings = readEnv(options, env, (message) => new ConfigError(message));
  const { nodeEnv, cfInstanceIndex, vcapServices, redisUrl, instanceId, ...direct } = settings;
  const production = nodeEnv === "production";
  if (production && settings.sessionSecret === undefined) {
    throw new ConfigError(configProblems(["SESSION_SECRET is required when NODE_ENV=production"]));
  }
  const redis = redisTarget(settings);
  const random = randomBytes(3).toString("hex");
  return {
    ...direct,
    redisUrl: redisUrlOf(
      settings,
      settings.redisClusterNodes.length > 0 || settings.redisSentinels.length > 0,
    ),
    redis,
    instanceId:
      instanceId ??
      (cfInstanceIndex === undefined ? `i-${random}` : `cf-${cfInstanceIndex}-${random}`),
    production,
  };
}

/** Sentinels, then a Cluster, then one Redis; a half-given or doubly given topology is refused. */
function redisTarget(e: Settings): RedisTarget {
  const problems: string[] = [];
  const sentinels = e.redisSentinels;
  const master = e.redisSentinelMaster;
  if (sentinels.length > 0 && master === undefined) {
    problems.push(
      "REDIS_SENTINEL_MASTER is required with REDIS_SENTINELS (the monitored master's name)",
    );
  }
  if (sentinels.length === 0 && master !== undefined) {
    problems.push("REDIS_SENTINEL_MASTER needs REDIS_SENTINELS (the Sentinels' URLs)");
  }
  if (sentinels.length > 0 && e.redisClusterNodes.length > 0) {
    problems.push("set REDIS_SENTINELS or REDIS_CLUSTER_NODES, not both");
  }
  if (problems.length > 0) throw new ConfigError(configProblems(problems));
  if (sentinels.length > 0 && master !== undefined) {
    return { mode: "sentinel", sentinels, masterName: master };
  }
  if (e.redisClusterNodes.length > 0) return { mode: "cluster", nodes: e.redisClusterNodes };
  return { mode: "single", url: redisUrlOf(e, false) };
}

/**
 * The Redis to use when REDIS_URL is not set: on Cloud Foundry the bound
 * Redis service (a wrong or missing binding is a configuration error there,
 * since no Redis listens on the container's loopback), else the local one.
 */
function redisUrlOf(e: Pick<Settings, "redisUrl" | "vcapServices">, cluster: boolean): string {
  if (e.redisUrl !== undefined) return e.redisUrl;
  const local = "redis://127.0.0.1:6379";
  if (cluster) return local;
  const bound = redisFromVcap(e.vcapServices);
  if (bound === undefined) return local;
  if (!bound.ok) throw new ConfigError(configProblems([bound.problem]));
  return bound.url;
}
