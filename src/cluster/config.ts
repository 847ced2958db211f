import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { integer } from "../server/config.ts";

/** The repository root: instances run from here, so that `--import tsx` resolves. */
export const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/**
 * Every setting of the supervisor (`npm start`), read once from the
 * environment. Instances get the rest of the environment as it is (LOG_LEVEL,
 * NODE_ENV...), plus the settings below that concern them.
 */
export interface ClusterConfig {
  /** Port of the router, the one to open in a browser. @default 3000 (PORT) */
  port: number;
  /** Address the router listens on. @default all interfaces (HOST) */
  host: string | undefined;
  /** Instances to run. @default 3 (INSTANCES) */
  instances: number;
  /** Used as it is when set; otherwise the supervisor runs its own redis-server. (REDIS_URL) */
  redisUrl: string | undefined;
  /** Shared by every instance; when unset, one is generated once and kept in DATA_DIR. (SESSION_SECRET) */
  sessionSecret: string | undefined;
  /** @default "JSESSIONID" (SESSION_COOKIE_NAME) */
  sessionCookieName: string;
  /** Redis data, logs and the generated secret, relative to the working directory. @default ".data" (DATA_DIR) */
  dataDir: string;
  /** How long an instance drains on SIGTERM; passed to the instances. @default 10000 (DRAIN_TIMEOUT_MS) */
  drainTimeoutMs: number;
  /** After SIGTERM, how long before SIGKILL. @default DRAIN_TIMEOUT_MS + 5000 (STOP_TIMEOUT_MS) */
  stopTimeoutMs: number;
  /** How long a new instance has to answer /healthz. @default 30000 (START_TIMEOUT_MS) */
  startTimeoutMs: number;
  /**
   * Delay before a crashed instance is replaced while others are running;
   * doubles while replacements keep failing. Long enough for the crashed
   * instance's clients to settle on the others first: a start costs CPU,
   * which on a small machine would slow their reconnection. The last
   * instance is replaced at once. @default 5000 (RESTART_DELAY_MS)
   */
  restartDelayMs: number;
  /**
   * The script each instance runs, relative to the repository: the build that
   * `npm start` makes first, or a TypeScript file (run through tsx).
   * @default "dist/server/main.js" (INSTANCE_ENTRY)
   */
  instanceEntry: string;
  /** How long the router waits for an instance to start answering. @default 60000 (PROXY_TIMEOUT_MS) */
  proxyTimeoutMs: number;
}

/** Scale limit: more instances than this on one machine is a typo, not a plan. */
export const MAX_INSTANCES = 32;

const envSchema = z.object({
  PORT: integer("PORT", 3000, 0, 65535),
  HOST: z.string().min(1).optional(),
  INSTANCES: integer("INSTANCES", 3, 1, MAX_INSTANCES),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, "REDIS_URL must start with redis:// or rediss://")
    .optional(),
  SESSION_SECRET: z.string().min(16, "SESSION_SECRET must be at least 16 characters").optional(),
  SESSION_COOKIE_NAME: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, "SESSION_COOKIE_NAME must be a plain cookie name")
    .default("JSESSIONID"),
  DATA_DIR: z.string().min(1).default(".data"),
  DRAIN_TIMEOUT_MS: integer("DRAIN_TIMEOUT_MS", 10_000, 0, 600_000),
  STOP_TIMEOUT_MS: z.coerce
    .number({ error: "STOP_TIMEOUT_MS must be a number" })
    .int("STOP_TIMEOUT_MS must be an integer")
    .min(100, "STOP_TIMEOUT_MS must be at least 100")
    .max(900_000, "STOP_TIMEOUT_MS must be at most 900000")
    .optional(),
  START_TIMEOUT_MS: integer("START_TIMEOUT_MS", 30_000, 1000, 600_000),
  RESTART_DELAY_MS: integer("RESTART_DELAY_MS", 5000, 0, 60_000),
  INSTANCE_ENTRY: z.string().min(1).default("dist/server/main.js"),
  PROXY_TIMEOUT_MS: integer("PROXY_TIMEOUT_MS", 60_000, 1000, 3_600_000),
});

export class ClusterConfigError extends Error {
  override name = "ClusterConfigError";
}

function blankToUndefined(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env))
    if (value !== undefined && value !== "") out[key] = value;
  return out;
}

export function loadClusterConfig(env: NodeJS.ProcessEnv = process.env): ClusterConfig {
  const parsed = envSchema.safeParse(blankToUndefined(env));
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  - ${issue.message}`);
    throw new ClusterConfigError(`invalid configuration:\n${lines.join("\n")}`);
  }
  const e = parsed.data;
  return {
    port: e.PORT,
    host: e.HOST,
    instances: e.INSTANCES,
    redisUrl: e.REDIS_URL,
    sessionSecret: e.SESSION_SECRET,
    sessionCookieName: e.SESSION_COOKIE_NAME,
    dataDir: resolve(e.DATA_DIR),
    drainTimeoutMs: e.DRAIN_TIMEOUT_MS,
    stopTimeoutMs: e.STOP_TIMEOUT_MS ?? e.DRAIN_TIMEOUT_MS + 5000,
    startTimeoutMs: e.START_TIMEOUT_MS,
    restartDelayMs: e.RESTART_DELAY_MS,
    instanceEntry: e.INSTANCE_ENTRY,
    proxyTimeoutMs: e.PROXY_TIMEOUT_MS,
  };
}
