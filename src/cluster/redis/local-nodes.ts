import { basename, join } from "node:path";
import type { RedisNodeInfo, RedisRole, RedisStats, RedisTopology } from "../admin-contract.ts";
import { OperationError } from "../supervisor.ts";
import { redisInfo } from "./info.ts";

/** A Redis process the supervisor runs: a RedisNode of a topology, or the single RedisProcess. */
export interface NodeProcess {
  readonly port: number;
  readonly pid: number | undefined;
  readonly running: boolean;
  /** Sends the signal and resolves once the process is gone. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on its port with its data; resolves once it listens. */
  restart(): Promise<void>;
}

/** What the supervisor hears from its Redis nodes. */
export interface NodeEvents {
  /** A pid changed (a kill, a start), for the state file. */
  onChange: () => void;
  /** One line for the supervisor's output. */
  report: (line: string) => void;
}

interface Member {
  readonly id: string;
  readonly process: NodeProcess;
  readonly sentinel: boolean;
  /** The last role the node said it has (a node that is down keeps its last word). */
  role: RedisRole;
  masterPort: number | undefined;
  /** Set while a kill or a start of this node runs, so that two do not overlap. */
  busy: boolean;
}

/** How often the nodes are asked their roles in the background. */
const REFRESH_MS = 1000;

/**
 * The Redis processes of the supervisor's own topology, by id: their roles
 * as each node says them (INFO replication), and the kill and start that the
 * admin API offers so that a person can watch a failover.
 */
export class LocalNodes {
  private readonly members: Member[];
  private closed = false;
  private refreshing: Promise<void> | undefined;
  private readonly refresher: NodeJS.Timeout;

  constructor(
    nodes: ReadonlyArray<{ process: NodeProcess; role: RedisRole }>,
    private readonly events: NodeEvents,
  ) {
    this.members = nodes.map(({ process, role }) => ({
      id: `${role === "sentinel" ? "sentinel" : "redis"}-${process.port}`,
      process,
      sentinel: role === "sentinel",
      role,
      masterPort: undefined,
      busy: false,
    }));
    // Keeps known() current for a reader that cannot wait (the dashboard's stats poller).
    this.refresher = setInterval(() => void this.list(), REFRESH_MS);
    this.refresher.unref();
  }

  /** Pids of the processes running now. */
  pids(): number[] {
    return this.members.flatMap(({ process }) =>
      process.running && process.pid !== undefined ? [process.pid] : [],
    );
  }

  /** Every node, with the role it says it has now. */
  async list(): Promise<RedisNodeInfo[]> {
    this.refreshing ??= this.refresh().finally(() => {
      this.refreshing = undefined;
    });
    await this.refreshing;
    return this.members.map((member) => this.info(member));
  }

  /** The nodes with the roles they said at most a second ago, without asking them now. */
  known(): RedisNodeInfo[] {
    return this.members.map((member) => this.info(member));
  }

  /** SIGKILL, as a crash: nothing is flushed, and the Sentinels or the Cluster fail over. */
  async kill(id: string): Promise<RedisNodeInfo> {
    const member = this.find(id);
    if (!member.process.running) throw new OperationError(`${id} is not running`, 409);
    member.busy = true;
    try {
      await member.process.stop("SIGKILL");
    } finally {
      member.busy = false;
    }
    this.events.onChange();
    this.events.report(`redis     ${id}  killed (SIGKILL)`);
    return this.info(member);
  }

  /** Starts a node that is down, on its port and with its data; it rejoins as the topology says. */
  async start(id: string): Promise<RedisNodeInfo> {
    const member = this.find(id);
    if (member.process.running) throw new OperationError(`${id} is already running`, 409);
    member.busy = true;
    try {
      await member.process.restart();
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new OperationError(`${id} did not start: ${reason}`, 500);
    } finally {
      member.busy = false;
    }
    this.events.onChange();
    this.events.report(
      `redis     ${id}  started again on port ${member.process.port} (pid ${member.process.pid})`,
    );
    await this.ask(member);
    return this.info(member);
  }

  /** From now on, kill and start are refused: the cluster is stopping. */
  close(): void {
    this.closed = true;
    clearInterval(this.refresher);
  }

  private find(id: string): Member {
    if (this.closed) throw new OperationError("the cluster is shutting down", 503);
    const member = this.members.find((m) => m.id === id);
    if (member === undefined) throw new OperationError(`no Redis node ${id}`, 404);
    if (member.busy) throw new OperationError(`${id} is being killed or started`, 409);
    return member;
  }

  private async refresh(): Promise<void> {
    await Promise.all(this.members.map((member) => this.ask(member)));
  }

  /** A data node's role as it says it; a Sentinel is one by its start, and stays one. */
  private async ask(member: Member): Promise<void> {
    if (member.sentinel || !member.process.running) return;
    const info = await redisInfo(member.process.port, "replication");
    const role = info?.get("role");
    if (role === "master") {
      member.role = "master";
      member.masterPort = undefined;
    } else if (role === "slave") {
      member.role = "replica";
      const port = Number(info?.get("master_port"));
      member.masterPort = Number.isInteger(port) && port > 0 ? port : undefined;
    }
  }

  private info(member: Member): RedisNodeInfo {
    const info: RedisNodeInfo = {
      id: member.id,
      port: member.process.port,
      pid: member.process.running ? member.process.pid : undefined,
      role: member.role,
      up: member.process.running,
    };
    if (member.role === "replica" && member.masterPort !== undefined) {
      info.masterPort = member.masterPort;
    }
    return info;
  }
}

/** The banner's lines for a topology: what it is, where its files are, and one line per node. */
export function nodeBanner(describe: string, folder: string, nodes: RedisNodeInfo[]): string[] {
  return [
    `${describe}; files in ${folder}`,
    ...nodes.map((node) => `${node.id.padEnd(16)} ${node.role.padEnd(8)} (pid ${node.pid})`),
  ];
}

/**
 * A Redis of the supervisor's own (one server, a Sentinel set, a Cluster):
 * its nodes answer the admin routes the same way whatever the topology; a
 * topology says what it is, how to show it and how its processes stop.
 */
export abstract class OwnRedis {
  abstract readonly topology: RedisTopology;

  protected constructor(
    protected readonly nodes: LocalNodes,
    /** One line that says what runs, for the banner and the dashboard. */
    readonly describe: string,
    /** What points an instance at it; the other Redis variables unset. */
    readonly env: Readonly<Record<string, string | undefined>>,
  ) {}

  pids(): number[] {
    return this.nodes.pids();
  }

  async stats(): Promise<RedisStats> {
    return { topology: this.topology, describe: this.describe, nodes: await this.nodes.list() };
  }

  snapshot(): RedisStats {
    return { topology: this.topology, describe: this.describe, nodes: this.nodes.known() };
  }

  kill(id: string): Promise<RedisNodeInfo> {
    return this.nodes.kill(id);
  }

  start(id: string): Promise<RedisNodeInfo> {
    return this.nodes.start(id);
  }

  async stop(): Promise<void> {
    this.nodes.close();
    await this.stopProcesses(false);
  }

  killAllNow(): void {
    this.nodes.close();
    void this.stopProcesses(true);
  }

  /** Ends the topology's processes: gently unless `now` (the supervisor is going down hard). */
  protected abstract stopProcesses(now: boolean): Promise<void>;
}

/**
 * A topology a harness (`RedisSentinelServer`, `RedisClusterServer`) built
 * under a folder of the data folder, to watch a failover: nothing on it is
 * kept, so stopping it kills its processes.
 */
export abstract class ThrowawayRedis extends OwnRedis {
  protected constructor(
    private readonly server: { close(): Promise<void> },
    private readonly dir: string,
    nodes: LocalNodes,
    describe: string,
    env: Readonly<Record<string, string | undefined>>,
  ) {
    super(nodes, describe, env);
  }

  banner(shownDataDir: string): string[] {
    return nodeBanner(this.describe, join(shownDataDir, basename(this.dir)), this.nodes.known());
  }

  /** Nothing to flush (no persistence): the processes are killed. */
  protected stopProcesses(): Promise<void> {
    return this.server.close();
  }
}
