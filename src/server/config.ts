import { randomBytes } from "node:crypto";
import { z } from "zod";
import { redisFromVcap } from "./vcap-redis.ts";

/**
 * Every setting of an instance, read once from the environment and validated
 * at start-up. The README's configuration table mirrors this file.
 */
export interface Config {
  /** HTTP port. @default 3000 (PORT; Cloud Foundry sets it) */
  port: number;
  /** Address to listen on. @default all interfaces (HOST) */
  host: string | undefined;
  /** @default "redis://127.0.0.1:6379" (REDIS_URL, or a Redis service in VCAP_SERVICES) */
  redisUrl: string;
  /**
   * Seed nodes of a Redis Cluster (REDIS_CLUSTER_NODES, comma-separated
   * redis:// URLs). When set, REDIS_URL is not used: keys are spread over the
   * cluster's shards and messages travel by sharded pub/sub. @default none
   */
  redisClusterNodes: string[];
  /**
   * Sentinels of a Redis master and replicas (REDIS_SENTINELS, comma-separated
   * redis:// URLs; credentials in a URL are used for the Sentinels and the
   * data nodes). When set, REDIS_URL is not used: every Redis use goes to the
   * master the Sentinels name and follows it through a failover. @default none
   */
  redisSentinels: string[];
  /** The master's name at the Sentinels (REDIS_SENTINEL_MASTER); required with REDIS_SENTINELS. */
  redisSentinelMaster: string | undefined;
  /** Which Redis topology the settings above choose, with what it needs. */
  redis: RedisTarget;
  /**
   * Acknowledge a message only once at least one replica has it (WAIT), and
   * publish it only then (REDIS_REPLICA_ACK: "auto", "on" or "off"). "auto"
   * turns it on when the master (on a Cluster, every master) has a replica at
   * start. @default "auto"
   */
  replicaAck: "auto" | "on" | "off";
  /** How long a send waits for a replica before it answers `unavailable`. @default 500 (REDIS_REPLICA_ACK_TIMEOUT_MS) */
  replicaAckTimeoutMs: number;
  /** Signs the session cookie. Required in production; in development one is shared through Redis. */
  sessionSecret: string | undefined;
  /** @default "JSESSIONID": the name Cloud Foundry's router keys sticky sessions on */
  sessionCookieName: string;
  /** Idle time after which a session expires. @default 604800 (7 days) */
  sessionTtlSeconds: number;
  /** @default a short random id, or `cf-<CF_INSTANCE_INDEX>-<random>` on Cloud Foundry */
  instanceId: string;
  /** @default 2000 */
  maxMessageLength: number;
  /** Messages kept per room. @default 1000 */
  historySize: number;
  /** Prefix of every Redis key, so several deployments can share a Redis. @default "sb" */
  keyPrefix: string;
  /** How long a draining instance waits for its clients to leave. @default 10000 */
  drainTimeoutMs: number;
  /** Interval of the presence heartbeat; entries expire after three. @default 5000 */
  presenceHeartbeatMs: number;
  /**
   * Joins and leaves in a room are announced together, once per this window
   * per instance; a user who leaves and comes back within it (a reconnect)
   * is not announced at all. @default 250
   */
  presenceWindowMs: number;
  /**
   * Rooms with more members than this announce only their count (no names),
   * and relay no typing. @default 1000
   */
  presenceCountOnlyAbove: number;
  /** Such rooms announce their count at most once per this interval per instance. @default 2000 */
  presenceCountIntervalMs: number;
  /** How often sockets are checked against their session. @default 30000 */
  sessionCheckMs: number;
  /** @default "info" */
  logLevel: string;
  /**
   * Origins (scheme://host[:port]) allowed besides the page's own, for
   * state-changing requests and the Socket.IO handshake. @default [] (ALLOWED_ORIGINS, comma-separated)
   */
  allowedOrigins: string[];
  /**
   * Express "trust proxy": which peers may set X-Forwarded-* ("true", a hop
   * count, or addresses/subnets). @default "loopback, linklocal, uniquelocal"
   */
  trustProxy: boolean | number | string;
  /** Steady chat messages per second per user, over all instances; 0 turns the limit off. @default 10 */
  messageRatePerSecond: number;
  /** Messages a user may send at once before the steady rate applies. @default 20 */
  messageBurst: number;
  /** Shortest interval between relayed typing events of one socket. @default 500 */
  typingIntervalMs: number;
  /** @default 50 */
  maxRoomsPerSocket: number;
  /** Sockets one login session may hold on one instance (tabs). @default 20 */
  maxSocketsPerSession: number;
  /** Largest Socket.IO message (bytes). @default 32768 */
  maxHttpBufferSize: number;
  /** Largest HTTP JSON body (bytes). @default 16384 */
  httpBodyLimit: number;
  /** Login and register attempts per address per minute. @default 60 */
  authAttemptsPerMinute: number;
  /** Failed logins on one name (15 minutes) before it is locked with growing back-off. @default 5 */
  authFailuresBeforeLock: number;
  /**
   * Opens GET /metrics to requests with `Authorization: Bearer <token>`;
   * without it, only requests from this machine (not through a proxy) get
   * metrics. @default none (METRICS_TOKEN, at least 16 characters)
   */
  metricsToken: string | undefined;
  production: boolean;
}

/** One Redis, a master and replicas behind Sentinels, or a Redis Cluster. */
export type RedisTarget =
  | { mode: "single"; url: string }
  | { mode: "sentinel"; sentinels: string[]; masterName: string }
  | { mode: "cluster"; nodes: string[] };

/** An integer setting with bounds and a default, whose errors name the variable. */
export const integer = (name: string, fallback: number, min: number, max: number) =>
  z.coerce
    .number({ error: `${name} must be a number` })
    .int(`${name} must be an integer`)
    .min(min, `${name} must be at least ${min}`)
    .max(max, `${name} must be at most ${max}`)
    .default(fallback);

/** A comma-separated list (empty by default) whose every item must match. */
const commaList = (item: RegExp, message: string) =>
  z
    .string()
    .default("")
    .transform((raw) =>
      raw
        .split(",")
        .map((part) => part.trim())
        .filter((part) => part !== ""),
    )
    .pipe(z.array(z.string().regex(item, message)));

const envSchema = z.object({
  NODE_ENV: z.string().optional(),
  PORT: integer("PORT", 3000, 0, 65535),
  HOST: z.string().min(1).optional(),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, "REDIS_URL must start with redis:// or rediss://")
    .optional(),
  REDIS_CLUSTER_NODES: commaList(
    /^rediss?:\/\//,
    "REDIS_CLUSTER_NODES must be redis:// URLs, comma-separated",
  ),
  REDIS_SENTINELS: commaList(
    /^rediss?:\/\/[^/\s]+:\d+\/?$/,
    "REDIS_SENTINELS must be redis://host:port URLs, comma-separated",
  ),
  REDIS_SENTINEL_MASTER: z
    .string()
    .regex(
      /^[A-Za-z0-9_.-]{1,64}$/,
      "REDIS_SENTINEL_MASTER must be 1-64 of A-Z, a-z, 0-9, _, . and -",
    )
    .optional(),
  REDIS_REPLICA_ACK: z
    .enum(["auto", "on", "off"], { error: "REDIS_REPLICA_ACK must be auto, on or off" })
    .default("auto"),
  REDIS_REPLICA_ACK_TIMEOUT_MS: integer("REDIS_REPLICA_ACK_TIMEOUT_MS", 500, 10, 60_000),
  SESSION_SECRET: z.string().min(16, "SESSION_SECRET must be at least 16 characters").optional(),
  METRICS_TOKEN: z.string().min(16, "METRICS_TOKEN must be at least 16 characters").optional(),
  SESSION_COOKIE_NAME: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, "SESSION_COOKIE_NAME must be a plain cookie name")
    .default("JSESSIONID"),
  SESSION_TTL_SECONDS: integer("SESSION_TTL_SECONDS", 604_800, 60, 31_536_000),
  INSTANCE_ID: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, "INSTANCE_ID must be 1-64 of A-Z, a-z, 0-9, _, . and -")
    .optional(),
  CF_INSTANCE_INDEX: z.string().optional(),
  VCAP_SERVICES: z.string().optional(),
  MAX_MESSAGE_LENGTH: integer("MAX_MESSAGE_LENGTH", 2000, 1, 100_000),
  HISTORY_SIZE: integer("HISTORY_SIZE", 1000, 10, 1_000_000),
  KEY_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,32}$/, "KEY_PREFIX must be 1-32 of A-Z, a-z, 0-9, _, . and -")
    .default("sb"),
  DRAIN_TIMEOUT_MS: integer("DRAIN_TIMEOUT_MS", 10_000, 0, 600_000),
  PRESENCE_HEARTBEAT_MS: integer("PRESENCE_HEARTBEAT_MS", 5000, 100, 600_000),
  PRESENCE_WINDOW_MS: integer("PRESENCE_WINDOW_MS", 250, 0, 10_000),
  PRESENCE_COUNT_ONLY_ABOVE: integer("PRESENCE_COUNT_ONLY_ABOVE", 1000, 1, 10_000_000),
  PRESENCE_COUNT_INTERVAL_MS: integer("PRESENCE_COUNT_INTERVAL_MS", 2000, 0, 600_000),
  SESSION_CHECK_MS: integer("SESSION_CHECK_MS", 30_000, 100, 3_600_000),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  ALLOWED_ORIGINS: commaList(
    /^https?:\/\/[^/\s]+$/,
    "ALLOWED_ORIGINS must be a comma-separated list of scheme://host[:port]",
  ),
  TRUST_PROXY: z
    .string()
    .min(1)
    .default("loopback, linklocal, uniquelocal")
    .transform((raw): boolean | number | string => {
      if (raw === "true" || raw === "false") return raw === "true";
      return /^\d+$/.test(raw) ? Number(raw) : raw;
    }),
  MESSAGE_RATE_PER_SECOND: integer("MESSAGE_RATE_PER_SECOND", 10, 0, 100_000),
  MESSAGE_BURST: integer("MESSAGE_BURST", 20, 1, 100_000),
  TYPING_INTERVAL_MS: integer("TYPING_INTERVAL_MS", 500, 0, 60_000),
  MAX_ROOMS_PER_SOCKET: integer("MAX_ROOMS_PER_SOCKET", 50, 1, 10_000),
  MAX_SOCKETS_PER_SESSION: integer("MAX_SOCKETS_PER_SESSION", 20, 1, 1_000_000),
  MAX_HTTP_BUFFER_SIZE: integer("MAX_HTTP_BUFFER_SIZE", 32_768, 1024, 10_000_000),
  HTTP_BODY_LIMIT: integer("HTTP_BODY_LIMIT", 16_384, 256, 10_000_000),
  AUTH_ATTEMPTS_PER_MINUTE: integer("AUTH_ATTEMPTS_PER_MINUTE", 60, 1, 1_000_000),
  AUTH_FAILURES_BEFORE_LOCK: integer("AUTH_FAILURES_BEFORE_LOCK", 5, 1, 1000),
});

export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Reads the configuration; throws a ConfigError that names every wrong setting. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  - ${issue.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join("\n")}`);
  }
  const e = parsed.data;
  const production = e.NODE_ENV === "production";
  if (production && e.SESSION_SECRET === undefined) {
    throw new ConfigError(
      "invalid configuration:\n  - SESSION_SECRET is required when NODE_ENV=production",
    );
  }
  const redis = redisTarget(e);
  const random = randomBytes(3).toString("hex");
  const instanceId =
    e.INSTANCE_ID ??
    (e.CF_INSTANCE_INDEX === undefined ? `i-${random}` : `cf-${e.CF_INSTANCE_INDEX}-${random}`);
  return {
    port: e.PORT,
    host: e.HOST,
    redisUrl: redisUrlOf(e, e.REDIS_CLUSTER_NODES.length > 0 || e.REDIS_SENTINELS.length > 0),
    redisClusterNodes: e.REDIS_CLUSTER_NODES,
    redisSentinels: e.REDIS_SENTINELS,
    redisSentinelMaster: e.REDIS_SENTINEL_MASTER,
    redis,
    replicaAck: e.REDIS_REPLICA_ACK,
    replicaAckTimeoutMs: e.REDIS_REPLICA_ACK_TIMEOUT_MS,
    sessionSecret: e.SESSION_SECRET,
    sessionCookieName: e.SESSION_COOKIE_NAME,
    sessionTtlSeconds: e.SESSION_TTL_SECONDS,
    instanceId,
    maxMessageLength: e.MAX_MESSAGE_LENGTH,
    historySize: e.HISTORY_SIZE,
    keyPrefix: e.KEY_PREFIX,
    drainTimeoutMs: e.DRAIN_TIMEOUT_MS,
    presenceHeartbeatMs: e.PRESENCE_HEARTBEAT_MS,
    presenceWindowMs: e.PRESENCE_WINDOW_MS,
    presenceCountOnlyAbove: e.PRESENCE_COUNT_ONLY_ABOVE,
    presenceCountIntervalMs: e.PRESENCE_COUNT_INTERVAL_MS,
    sessionCheckMs: e.SESSION_CHECK_MS,
    logLevel: e.LOG_LEVEL,
    allowedOrigins: e.ALLOWED_ORIGINS,
    trustProxy: e.TRUST_PROXY,
    messageRatePerSecond: e.MESSAGE_RATE_PER_SECOND,
    messageBurst: e.MESSAGE_BURST,
    typingIntervalMs: e.TYPING_INTERVAL_MS,
    maxRoomsPerSocket: e.MAX_ROOMS_PER_SOCKET,
    maxSocketsPerSession: e.MAX_SOCKETS_PER_SESSION,
    maxHttpBufferSize: e.MAX_HTTP_BUFFER_SIZE,
    httpBodyLimit: e.HTTP_BODY_LIMIT,
    authAttemptsPerMinute: e.AUTH_ATTEMPTS_PER_MINUTE,
    authFailuresBeforeLock: e.AUTH_FAILURES_BEFORE_LOCK,
    metricsToken: e.METRICS_TOKEN,
    production,
  };
}

type Env = z.infer<typeof envSchema>;

/** Sentinels, then a Cluster, then one Redis; a half-given or doubly given topology is refused. */
function redisTarget(e: Env): RedisTarget {
  const problems: string[] = [];
  const sentinels = e.REDIS_SENTINELS;
  const master = e.REDIS_SENTINEL_MASTER;
  if (sentinels.length > 0 && master === undefined) {
    problems.push(
      "REDIS_SENTINEL_MASTER is required with REDIS_SENTINELS (the monitored master's name)",
    );
  }
  if (sentinels.length === 0 && master !== undefined) {
    problems.push("REDIS_SENTINEL_MASTER needs REDIS_SENTINELS (the Sentinels' URLs)");
  }
  if (sentinels.length > 0 && e.REDIS_CLUSTER_NODES.length > 0) {
    problems.push("set REDIS_SENTINELS or REDIS_CLUSTER_NODES, not both");
  }
  if (problems.length > 0) {
    throw new ConfigError(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  }
  if (sentinels.length > 0 && master !== undefined) {
    return { mode: "sentinel", sentinels, masterName: master };
  }
  if (e.REDIS_CLUSTER_NODES.length > 0) return { mode: "cluster", nodes: e.REDIS_CLUSTER_NODES };
  return { mode: "single", url: redisUrlOf(e, false) };
}

/**
 * The Redis to use when REDIS_URL is not set: on Cloud Foundry the bound
 * Redis service (a wrong or missing binding is a configuration error there,
 * since no Redis listens on the container's loopback), else the local one.
 */
function redisUrlOf(
  e: { REDIS_URL?: string | undefined; VCAP_SERVICES?: string | undefined },
  cluster: boolean,
): string {
  if (e.REDIS_URL !== undefined) return e.REDIS_URL;
  const local = "redis://127.0.0.1:6379";
  if (cluster) return local;
  const bound = redisFromVcap(e.VCAP_SERVICES);
  if (bound === undefined) return local;
  if (!bound.ok) throw new ConfigError(`invalid configuration:\n  - ${bound.problem}`);
  return bound.url;
}
