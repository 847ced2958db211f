import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { sign } from "cookie-signature";
import { createClient } from "redis";
import { CookieJar, HttpApi } from "../../src/client/core/index.ts";
import { type ClusterInstance, ClusterProcess } from "../harness/cluster-process.ts";
import { type LoadBalancer, startHaproxy } from "../harness/load-balancer.ts";
import type { SystemName } from "../load/ipc.ts";
import { onInterrupt } from "./cleanup.ts";
import type { RouterName } from "./config.ts";

export const COOKIE_NAME = "JSESSIONID";
const PASSWORD = "bench-password";
const PROBE = pathToFileURL(join(import.meta.dirname, "../harness/memory-probe.mjs")).href;

/** The environment every system's instances get, besides what the supervisor sets. */
const SESSION_SECRET = "benchmark-session-secret-0123456789";
const COMMON_ENV: Record<string, string> = {
  NODE_ENV: "production",
  LOG_LEVEL: "warn",
  SESSION_SECRET,
  SESSION_COOKIE_NAME: COOKIE_NAME,
  DRAIN_TIMEOUT_MS: "2000",
};

/**
 * Per system: Switchboard runs with its per-user message rate limit off
 * (MESSAGE_RATE_PER_SECOND=0), as many sockets per login as it allows, and
 * login throttling out of the way, since a few hundred logins are shared by
 * thousands of clients from one address. Everything else is its default,
 * HISTORY_SIZE (1000) included.
 */
export const SYSTEM_ENV: Record<SystemName, Record<string, string>> = {
  switchboard: {
    // What npm start runs (the bench builds it first); the test harness would run the source.
    INSTANCE_ENTRY: "dist/server/main.js",
    MESSAGE_RATE_PER_SECOND: "0",
    MAX_SOCKETS_PER_SESSION: "10000",
    AUTH_ATTEMPTS_PER_MINUTE: "1000000",
  },
  plain: { INSTANCE_ENTRY: "bench/references/plain-server.ts" },
  ceiling: { INSTANCE_ENTRY: "bench/references/ceiling-server.ts" },
};

export interface SystemOptions {
  instances: number;
  sessions: number;
  /** Written to the instances' environment too. */
  env?: Record<string, string>;
  /** @default "dev": the supervisor's router; "haproxy": deploy/haproxy.cfg in front of the instances. */
  router?: RouterName;
}

/** One system under test: its own supervisor, Redis, instances and router, and its logins. */
export class RunningSystem {
  private constructor(
    readonly name: SystemName,
    readonly cluster: ClusterProcess,
    readonly probeDir: string,
    readonly sessions: string[],
    /** HAProxy in front of the instances, when the run goes through it. */
    readonly balancer: LoadBalancer | undefined,
  ) {
    this.forget = onInterrupt(() => this.stop());
  }

  private readonly forget: () => void;

  static async start(
    name: SystemName,
    options: SystemOptions,
    log: (line: string) => void,
  ): Promise<RunningSystem> {
    const probeDir = await mkdtemp(join(tmpdir(), "sb-bench-probe-"));
    const nodeOptions = ["--expose-gc", `--import=${PROBE}`];
    let cluster: ClusterProcess | undefined;
    let balancer: LoadBalancer | undefined;
    try {
      cluster = await ClusterProcess.start({
        instances: options.instances,
        env: {
          ...COMMON_ENV,
          ...SYSTEM_ENV[name],
          ...options.env,
          NODE_OPTIONS: nodeOptions.join(" "),
          SB_BENCH_PROBE_DIR: probeDir,
        },
      });
      let url = cluster.url;
      if (options.router === "haproxy") {
        // The instances the supervisor started, as they are now: one that the
        // storm kills is replaced on a new port that HAProxy does not know, and
        // its clients stay on the survivors, as with a fixed server list.
        balancer = await startHaproxy(await cluster.running());
        url = balancer.url;
      }
      log(`  ${name}: cluster up at ${url}; logging in ${options.sessions} sessions`);
      const sessions = await registerSessions(url, options.sessions, name);
      return new RunningSystem(name, cluster, probeDir, sessions, balancer);
    } catch (error) {
      await balancer?.stop();
      await cluster?.stop();
      await rm(probeDir, { recursive: true, force: true });
      throw error;
    }
  }

  /** Where clients connect: the router's URL. */
  get url(): string {
    return this.balancer?.url ?? this.cluster.url;
  }

  running(): Promise<ClusterInstance[]> {
    return this.cluster.running();
  }

  /** The supervisor's Redis, from its "(pid N" line. */
  get redisPid(): number | undefined {
    const match = /^redis\s.*\(pid (\d+)/m.exec(this.cluster.output);
    return match?.[1] === undefined ? undefined : Number(match[1]);
  }

  /** The supervisor's Redis, from its "redis <url> (pid N" line. */
  get redisUrl(): string | undefined {
    return /^redis\s+(redis:\/\/\S+) \(pid/m.exec(this.cluster.output)?.[1];
  }

  /**
   * Session cookies of `count` different users, for the big room, where
   * each connection is a user of its own. Switchboard's are written straight
   * into its session store, as its login writes them (express-session's
   * JSON under `sb:sess:`, the id signed into the cookie): registering
   * 10,000 accounts would take 10,000 scrypt hashes, minutes of both cores,
   * for nothing the scenario measures. The references have no presence, and
   * their users share the run's logins.
   */
  async ownLogins(count: number): Promise<string[]> {
    if (this.name !== "switchboard") {
      return Array.from(
        { length: count },
        (_u, i) => this.sessions[i % this.sessions.length] ?? "",
      );
    }
    const url = this.redisUrl;
    if (url === undefined) throw new Error("the supervisor did not say where its Redis is");
    const redis = createClient({ url });
    await redis.connect();
    try {
      const run = randomBytes(3).toString("hex");
      const ttlSeconds = 3600;
      const cookies: string[] = [];
      for (let from = 0; from < count; from += 1000) {
        const batch = redis.multi();
        for (let i = from; i < Math.min(count, from + 1000); i++) {
          const id = randomBytes(24).toString("base64url");
          const data = {
            cookie: {
              originalMaxAge: ttlSeconds * 1000,
              expires: new Date(Date.now() + ttlSeconds * 1000).toISOString(),
              httpOnly: true,
              path: "/",
              sameSite: "lax",
            },
            user: { name: `big_${run}_${i}` },
          };
          batch.set(`sb:sess:${id}`, JSON.stringify(data), { EX: ttlSeconds });
          cookies.push(encodeURIComponent(`s:${sign(id, SESSION_SECRET)}`));
        }
        await batch.exec();
      }
      return cookies;
    } finally {
      await redis.close();
    }
  }

  /** The router's process: HAProxy, or the supervisor, which runs the dev router. */
  get routerPid(): number | undefined {
    return this.balancer === undefined ? this.cluster.child.pid : this.balancer.pid;
  }

  async stop(): Promise<void> {
    this.forget();
    try {
      await this.balancer?.stop();
      await this.cluster.stop();
    } finally {
      await rm(this.probeDir, { recursive: true, force: true });
    }
  }
}

/**
 * Registers `count` users through the router (spreading the scrypt work over
 * the instances) and returns their session cookies.
 */
async function registerSessions(url: string, count: number, system: string): Promise<string[]> {
  const run = Math.random().toString(36).slice(2, 8);
  const sessions: string[] = new Array(count);
  let next = 0;
  const lane = async () => {
    for (let i = next++; i < count; i = next++) {
      const jar = new CookieJar();
      await new HttpApi(url, jar).register(`bench_${system.slice(0, 2)}${run}_${i}`, PASSWORD);
      const value = jar.get(COOKIE_NAME);
      if (value === undefined) throw new Error(`no ${COOKIE_NAME} cookie after registering`);
      sessions[i] = value;
    }
  };
  await Promise.all(Array.from({ length: Math.min(8, count) }, lane));
  return sessions;
}
