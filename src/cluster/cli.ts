/**
 * `npm run cluster -- <command>`: the admin API from a terminal.
 *
 *   status               the instances, their state and sockets
 *   kill ID              SIGKILL an instance (it is replaced, as after a crash)
 *   stop ID              SIGTERM an instance (it drains and is replaced)
 *   restart [--rolling]  new instances for all (at once, or one at a time)
 *   scale N              run N instances (scaling down drains first)
 *   redis                the Redis nodes and the role each says it has
 *   redis-kill ID        SIGKILL a Redis node (a crash: watch the failover)
 *   redis-start ID       start a killed Redis node again
 *
 * The router is --url URL, else ROUTER_URL, else the one of the cluster that
 * `npm start` runs from this folder (its port is in DATA_DIR/cluster.json).
 */
import { relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import type { InstanceInfo, RedisNodeInfo, RedisStats } from "./admin-contract.ts";
import { readState, stateFilePath } from "./state-file.ts";

const USAGE = `usage: npm run cluster -- <command> [--url URL]

commands:
  status               list the instances
  kill ID              SIGKILL an instance (a crash: it is replaced after a short delay)
  stop ID              SIGTERM an instance (it drains, and a new one takes its place)
  restart [--rolling]  replace every instance, all at once or one at a time
  scale N              run N instances; scaling down drains the ones that go
  redis                list the Redis nodes and the role each one says it has
  redis-kill ID        SIGKILL a Redis node (a crash: the Sentinels or the Cluster fail over)
  redis-start ID       start a killed Redis node again, on its port (it rejoins as a replica)

The cluster is found at --url, else ROUTER_URL, else from the state file of the
cluster that npm start runs from this folder (DATA_DIR/cluster.json, DATA_DIR
defaulting to .data).`;

class CliError extends Error {}

function usage(message?: string): never {
  if (message !== undefined) process.stderr.write(`${message}\n\n`);
  process.stderr.write(`${USAGE}\n`);
  process.exit(2);
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** --url, else ROUTER_URL, else the router that the state file of a running `npm start` names. */
function routerUrl(flag: string | undefined): string {
  if (flag !== undefined) return flag;
  const fromEnv = process.env.ROUTER_URL;
  if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
  const dataDir = resolve(process.env.DATA_DIR || ".data");
  const file = relative(process.cwd(), stateFilePath(dataDir));
  const state = readState(dataDir);
  const hint = "start one with npm start, or name it with --url URL or ROUTER_URL";
  if (state === undefined) throw new CliError(`no running cluster found (no ${file}): ${hint}`);
  if (!processAlive(state.supervisorPid)) {
    throw new CliError(
      `the cluster of ${file} is not running (its supervisor, pid ${state.supervisorPid}, is gone): ${hint}`,
    );
  }
  if (state.routerPort === undefined) {
    throw new CliError(`the cluster of ${file} is still starting: try again in a moment`);
  }
  const host = state.routerHost;
  // A wildcard address listens on every interface, this machine's loopback included.
  const wildcard = host === undefined || host === "0.0.0.0" || host === "::";
  const shown = wildcard ? "127.0.0.1" : host.includes(":") ? `[${host}]` : host;
  return `http://${shown}:${state.routerPort}`;
}

async function call(base: string, method: string, path: string, body?: unknown): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(new URL(`/_cluster${path}`, base), {
      method,
      headers: body === undefined ? {} : { "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch (error) {
    const reason =
      error instanceof Error && error.cause instanceof Error ? error.cause.message : "";
    throw new CliError(
      `cannot reach the cluster at ${base} (${reason || "no answer"}); is npm start running?`,
    );
  }
  const text = await res.text();
  let data: unknown = text;
  try {
    data = JSON.parse(text);
  } catch {
    // not JSON; shown as it is
  }
  if (!res.ok) {
    const message =
      typeof data === "object" && data !== null && "error" in data
        ? (data as { error: { message?: string } }).error.message
        : text;
    throw new CliError(`${method} ${path}: HTTP ${res.status}: ${message}`);
  }
  return data;
}

function ago(iso: string): string {
  const seconds = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${seconds % 60}s`;
  return `${Math.floor(seconds / 3600)}h${Math.floor((seconds % 3600) / 60)}m`;
}

/** How many recently exited instances `status` names below the table. */
const EXITED_SHOWN = 5;

/** The live instances as a table, then the few that exited lately on one line each. */
function statusText(instances: InstanceInfo[]): string {
  const live = instances.filter((i) => i.state !== "exited");
  const gone = instances
    .filter((i) => i.state === "exited")
    .sort((a, b) => Date.parse(b.exitedAt ?? "") - Date.parse(a.exitedAt ?? ""))
    .slice(0, EXITED_SHOWN);
  const lines = [table(live)];
  if (gone.length > 0) {
    lines.push("", "recently exited:");
    for (const i of gone) {
      const when = i.exitedAt === undefined ? "" : `, ${ago(i.exitedAt)} ago`;
      lines.push(`  ${i.id}  ${i.exit ?? "exited"}${when}`);
    }
  }
  return lines.join("\n");
}

function table(instances: InstanceInfo[]): string {
  const rows = [["ID", "STATE", "PORT", "PID", "SOCKETS", "UP"]];
  for (const i of instances) {
    rows.push([
      i.id,
      i.state,
      String(i.port),
      String(i.pid ?? ""),
      String(i.sockets),
      ago(i.startedAt),
    ]);
  }
  return columns(rows);
}

/** The Redis topology in a line, then a node a row; a replica names the port it follows. */
function redisText(stats: RedisStats): string {
  if (stats.nodes.length === 0) {
    return `${stats.describe}\n(not the cluster's own Redis: it has no nodes to show)`;
  }
  const rows = [["ID", "ROLE", "PORT", "PID", "UP", "FOLLOWS"]];
  for (const n of stats.nodes) {
    const follows = n.masterPort === undefined ? "" : String(n.masterPort);
    rows.push([n.id, n.role, String(n.port), String(n.pid ?? ""), n.up ? "yes" : "no", follows]);
  }
  return `${stats.describe}\n\n${columns(rows)}`;
}

function columns(rows: string[][]): string {
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? "").length))) ?? [];
  return rows
    .map((r) =>
      r
        .map((cell, c) => cell.padEnd(widths[c] ?? 0))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

function readArgs() {
  try {
    return parseArgs({
      args: process.argv.slice(2),
      options: {
        url: { type: "string" },
        rolling: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
      allowPositionals: true,
    });
  } catch (error) {
    return usage(error instanceof Error ? error.message : String(error));
  }
}

async function main(): Promise<void> {
  const { values, positionals } = readArgs();
  if (values.help === true) usage();
  const [command, argument, ...rest] = positionals;
  if (rest.length > 0) usage(`unexpected arguments: ${rest.join(" ")}`);
  const base = routerUrl(values.url);

  switch (command) {
    case "status":
    case undefined: {
      const instances = (await call(base, "GET", "/instances")) as InstanceInfo[];
      process.stdout.write(`${statusText(instances)}\n`);
      return;
    }
    case "kill":
    case "stop": {
      if (argument === undefined) usage(`${command} needs an instance id (see: status)`);
      const instance = (await call(
        base,
        "POST",
        `/instances/${encodeURIComponent(argument)}/${command}`,
      )) as InstanceInfo;
      const what =
        command === "kill"
          ? "killed; a new instance replaces it shortly"
          : "draining; a new instance replaces it";
      process.stdout.write(`${instance.id} ${what}\n`);
      return;
    }
    case "restart": {
      const strategy = values.rolling === true ? "rolling" : "all";
      process.stdout.write(
        `restarting ${strategy === "all" ? "all instances at once" : "one instance at a time"}…\n`,
      );
      const instances = (await call(base, "POST", "/restart", { strategy })) as InstanceInfo[];
      process.stdout.write(`${table(instances.filter((i) => i.state !== "exited"))}\n`);
      return;
    }
    case "scale": {
      const n = Number(argument);
      if (argument === undefined || !Number.isInteger(n))
        usage("scale needs a whole number of instances");
      const instances = (await call(base, "POST", "/scale", { instances: n })) as InstanceInfo[];
      process.stdout.write(`${table(instances.filter((i) => i.state !== "exited"))}\n`);
      return;
    }
    case "redis": {
      if (argument !== undefined) usage(`redis takes no argument (did you mean redis-kill?)`);
      const stats = (await call(base, "GET", "/redis")) as RedisStats;
      process.stdout.write(`${redisText(stats)}\n`);
      return;
    }
    case "redis-kill":
    case "redis-start": {
      const verb = command === "redis-kill" ? "kill" : "start";
      if (argument === undefined) usage(`${command} needs a Redis node id (see: redis)`);
      const node = (await call(
        base,
        "POST",
        `/redis/${encodeURIComponent(argument)}/${verb}`,
      )) as RedisNodeInfo;
      const what =
        verb === "kill"
          ? "killed; see the failover with: npm run cluster -- redis"
          : `started again (pid ${node.pid ?? "?"}); it rejoins as the topology says`;
      process.stdout.write(`${node.id} ${what}\n`);
      return;
    }
    default:
      usage(`unknown command: ${command}`);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`cluster: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
