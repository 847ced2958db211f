import { readFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { createServer } from "node:net";
import { join, relative } from "node:path";
import { BackendTable, createRouter, type Router } from "../router/index.ts";
import { prettyLogLine } from "../server/logger.ts";
import { createAdminApi } from "./admin-api.ts";
import { ClusterConfigError, loadClusterConfig } from "./config.ts";
import { RedisNotFoundError } from "./redis/local-redis.ts";
import { ExternalRedis, type LocalRedis } from "./redis/local-topology.ts";
import { startLocalRedis } from "./redis/start-local-redis.ts";
import { loadOrCreateSessionSecret } from "./session-secret.ts";
import { removeState, writeState } from "./state-file.ts";
import { StatsPoller } from "./stats.ts";
import { Supervisor } from "./supervisor.ts";

/**
 * `npm start`: Redis (unless REDIS_URL is given: one redis-server, or with
 * `--redis-sentinel` / `--redis-cluster` a Sentinel set or a Redis Cluster), INSTANCES chat instances and
 * the sticky router on PORT, in that order; SIGINT or SIGTERM stops them in
 * the reverse order and leaves no process behind.
 */

/** Signals closer together than this are one request to stop. */
const SIGNAL_REPEAT_MS = 1500;
/** How often the supervisor checks that the process that started it is still there. */
const PARENT_CHECK_MS = 1000;

process.stdout.on("error", () => {});
process.stderr.on("error", () => {});
const print = (line: string) => process.stdout.write(`${line}\n`);
const complain = (line: string) => process.stderr.write(`${line}\n`);

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Fails early, before anything is started, when the router's port is taken. */
function checkPortFree(port: number, host: string | undefined): Promise<void> {
  if (port === 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", (error: NodeJS.ErrnoException) => {
      const hint = error.code === "EADDRINUSE" ? " (is another npm start running? set PORT)" : "";
      reject(new Error(`port ${port} is not available: ${error.code ?? error.message}${hint}`));
    });
    probe.listen(port, host, () => probe.close(() => resolve()));
  });
}

/** The current parent's pid where the system tells it (Linux), else undefined. */
function currentParent(): number | undefined {
  try {
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so count from the last ")".
    const stat = readFileSync("/proc/self/stat", "utf8");
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    return Number.isInteger(ppid) ? ppid : undefined;
  } catch {
    return undefined;
  }
}

function parentAlive(parent: number): boolean {
  const now = currentParent();
  // Re-parented (to init or a subreaper): the original parent has ended, even if not yet reaped.
  if (now !== undefined) return now === parent;
  try {
    process.kill(parent, 0);
    return true;
  } catch (error) {
    // EPERM: alive, but another user's.
    return (error as NodeJS.ErrnoException).code !== "ESRCH";
  }
}

/**
 * Calls `gone` once the parent process has ended. Whatever stops `npm start`
 * by a pid other than ours (a container runtime, a CI script's `kill $!`)
 * may end npm without passing the signal on; an orphan would hold Redis, the
 * instances and the port for ever. Node's `process.ppid` is read once at
 * start, so the original parent's pid is probed instead.
 */
function watchParent(gone: () => void): void {
  const parent = process.ppid;
  // Started by init (or a container's pid 1): there is nobody to outlive.
  if (parent <= 1) return;
  const timer = setInterval(() => {
    if (parentAlive(parent)) return;
    clearInterval(timer);
    gone();
  }, PARENT_CHECK_MS);
  timer.unref();
}

async function main(): Promise<void> {
  let config: ReturnType<typeof loadClusterConfig>;
  try {
    config = loadClusterConfig();
  } catch (error) {
    if (!(error instanceof ClusterConfigError)) throw error;
    complain(`switchboard: ${error.message}`);
    process.exit(2);
  }
  const dataDir = config.dataDir;
  const logDir = join(dataDir, "logs");
  const near = relative(process.cwd(), dataDir);
  const shown = near === "" ? "." : near.startsWith("..") ? dataDir : near;

  let redis: LocalRedis | undefined;
  let supervisor: Supervisor | undefined;
  let stats: StatsPoller | undefined;
  let router: Router | undefined;
  let routerPort: number | undefined;
  let stopping: Promise<void> | undefined;

  const saveState = () =>
    writeState(dataDir, {
      supervisorPid: process.pid,
      routerPort,
      routerHost: config.host,
      redisPid: redis?.topology === "single" ? redis.pids()[0] : undefined,
      redisPids: redis?.pids() ?? [],
      instancePids: supervisor?.pids() ?? [],
    });

  /** Each step in its own try, so that one failing does not leave the next ones running. */
  const stopAll = async (): Promise<void> => {
    const steps: Array<[string, () => Promise<void> | void]> = [
      ["router", () => router?.close()],
      ["stats", () => stats?.stop()],
      ["instances", () => supervisor?.shutdown()],
      ["redis", () => redis?.stop()],
      ["state file", () => removeState(dataDir)],
    ];
    for (const [name, step] of steps) {
      try {
        await step();
      } catch (error) {
        complain(`switchboard: stopping ${name} failed: ${messageOf(error)}`);
      }
    }
  };

  const killAllNow = () => {
    supervisor?.killAllNow();
    redis?.killAllNow();
  };

  let firstSignalAt = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping !== undefined) {
      // A Ctrl-C reaches both npm and this process, and npm passes its copy on:
      // the same key press arrives twice. Only a later one means "now".
      if (Date.now() - firstSignalAt < SIGNAL_REPEAT_MS) return;
      print(`${signal} again: killing everything now`);
      killAllNow();
      process.exit(130);
    }
    firstSignalAt = Date.now();
    print(`${signal}: stopping the router, the instances and Redis…`);
    stopping = stopAll().then(() => {
      print("Switchboard stopped");
      process.exit(0);
    });
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  process.on("SIGHUP", onSignal);
  watchParent(() => {
    if (stopping !== undefined) return;
    print("the process that started this one is gone");
    onSignal("SIGHUP");
  });
  // Whatever way this process ends, its children do not outlive it.
  process.on("exit", killAllNow);
  process.on("uncaughtException", (error) => {
    complain(`switchboard: ${error.stack ?? error.message}`);
    killAllNow();
    process.exit(1);
  });

  try {
    await checkPortFree(config.port, config.host);
    await mkdir(logDir, { recursive: true });
    redis =
      config.givenRedis !== undefined
        ? new ExternalRedis(config.givenRedis)
        : await startLocalRedis({
            topology: config.redisTopology,
            dataDir,
            adopt: (started) => {
              redis = started;
              saveState();
            },
            events: { onChange: saveState, report: print },
          });
    if (stopping !== undefined) return;
    saveState();
    for (const line of redis.banner(shown)) print(`redis     ${line}`);

    const sessionSecret = config.sessionSecret ?? (await loadOrCreateSessionSecret(dataDir));
    const table = new BackendTable();
    supervisor = new Supervisor(table, {
      instances: config.instances,
      entry: config.instanceEntry,
      logDir,
      env: {
        ...redis.env,
        SESSION_SECRET: sessionSecret,
        SESSION_COOKIE_NAME: config.sessionCookieName,
        DRAIN_TIMEOUT_MS: String(config.drainTimeoutMs),
        // Instances are reached through the router only.
        HOST: "127.0.0.1",
      },
      startTimeoutMs: config.startTimeoutMs,
      stopTimeoutMs: config.stopTimeoutMs,
      restartDelayMs: config.restartDelayMs,
      report: print,
      // In a terminal, an instance's warnings and errors show up where a person looks, readable;
      // every line stays in its JSON log file (and piped output stays plain, for scripts).
      onLogLine: process.stdout.isTTY
        ? (id, line) => {
            const pretty = prettyLogLine(line);
            if (pretty !== undefined) print(`instance  ${id}  ${pretty}`);
          }
        : undefined,
    });
    supervisor.on("change", saveState);
    await supervisor.start();
    if (stopping !== undefined) return;

    const local = redis;
    stats = new StatsPoller(supervisor, table, {
      redis: () => local.snapshot(),
      router: () => router?.figures() ?? { requests: 0, errors: 0, connections: 0 },
    });
    stats.start();
    router = createRouter({
      table,
      sessionCookieName: config.sessionCookieName,
      proxyTimeoutMs: config.proxyTimeoutMs,
      admin: createAdminApi(supervisor, stats, redis),
    });
    routerPort = await router.listen(config.port, config.host);
    saveState();
    print(`router    port ${routerPort}, instance logs in ${shown}/logs`);
    print(`dashboard http://localhost:${routerPort}/_cluster (from this machine only)`);
    print(`Switchboard is running: open http://localhost:${routerPort}`);
  } catch (error) {
    if (stopping === undefined) {
      if (error instanceof RedisNotFoundError) complain(error.message);
      else complain(`switchboard: could not start: ${messageOf(error)}`);
      stopping = stopAll();
      await stopping;
      process.exit(1);
    }
  }
}

await main();
