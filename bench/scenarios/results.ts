import type { CoreWait, MachineInfo } from "../harness/proc-stats.ts";
import type { SystemName } from "../load/ipc.ts";
import type { BenchConfig, RouterName } from "./config.ts";

/** Latency figures in ms. */
export interface LatencySummary {
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

/** Cores used during a step, per part of the setup (1.0 = one core busy all along). */
export interface CoresUsed {
  instances: number;
  redis: number;
  router: number;
  load: number;
  machine: number;
  /** Work on the machine that is not this benchmark's (other programs). */
  other: number;
}

/**
 * How long each part's main threads (the event loops) were ready to run but
 * waited for a free core during a step: Linux's run-queue wait. Where it is
 * as large as the CPU they used, latency is the machine's scheduling.
 */
export interface WaitingForCores {
  instances: CoreWait;
  redis: CoreWait;
  router: CoreWait;
  load: CoreWait;
}

/** Latency of a share of the deliveries, and how many they were. */
export interface InstanceShare extends LatencySummary {
  deliveries: number;
}

export interface StepResult {
  sendRate: number;
  /** What the step offered: sends per second times the members of the room. */
  offeredDeliveryRate: number;
  durationMs: number;
  sent: number;
  expected: number;
  delivered: number;
  lost: number;
  duplicates: number;
  late: number;
  sendErrors: number;
  whileDisconnected: number;
  deliveredPerSecond: number;
  latency: LatencySummary;
  /** The latency split at the instance's `ts`: sender to instance, instance to receiver. */
  toServer: LatencySummary;
  fromServer: LatencySummary;
  /**
   * The deliveries to clients on the instance that took the send, and to
   * clients on the other instances (absent from reports made before 2026-12-02).
   */
  sameInstance?: InstanceShare;
  otherInstances?: InstanceShare;
  /** Latency at percentiles [p, ms], for the chart. */
  curve: [number, number][];
  cores: CoresUsed;
  /** Absent from reports made before 2026-12-02, and where /proc has no schedstat. */
  waiting?: WaitingForCores;
  /** How far the senders fell behind their schedule, worst case (ms). */
  senderLagMs: number;
  held: boolean;
  reason: string;
}

export interface ThroughputResult {
  clients: number;
  rooms: number;
  connectedByInstance: Record<string, number>;
  steps: StepResult[];
  /** The highest step that held (p99 within the limit, nothing lost). */
  best: StepResult | undefined;
  firstFailed: StepResult | undefined;
}

export interface LatencyResult {
  /** Where the rate came from ("half of plain's maximum", or the fallback). */
  basis: string;
  /** The median round by p99 (the only round in reports from before rounds). */
  step: StepResult;
  /** Every round's p99, in the order run. */
  roundsP99?: number[];
}

export interface InstanceMemory {
  id: string;
  sockets: number;
  heapBefore: number;
  heapAfter: number;
  rssBefore: number;
  rssAfter: number;
  heapPerConnection: number;
  rssPerConnection: number;
}

export interface ConnectionsResult {
  clients: number;
  connected: number;
  failed: number;
  errors: string[];
  connectSeconds: number;
  connectRate: number;
  instances: InstanceMemory[];
  /** Averages over the instances, bytes per connection. */
  heapPerConnection: number;
  rssPerConnection: number;
  broadcast: { expected: number; delivered: number; lost: number; latency: LatencySummary };
  /** Cores used while the clients connected. */
  connectCores: CoresUsed;
  /** CPU (ms) per connection while connecting: of the instances and of the load generator. */
  instanceCpuMsPerConnection: number;
  loadCpuMsPerConnection: number;
}

export interface StormResult {
  clients: number;
  rooms: number;
  killed: string;
  affected: number;
  reconnected: number;
  /** ms from the kill until each affected client was connected with its rooms joined (Switchboard: and caught up). */
  reconnect: LatencySummary;
  /** Connection attempts each affected client needed. */
  attempts: LatencySummary;
  /** Where the affected clients are connected at the end (instance id: clients). */
  landedOn: Record<string, number>;
  sent: number;
  expected: number;
  delivered: number;
  lost: number;
  duplicates: number;
  whileDisconnected: number;
  sendErrors: number;
  resets: number;
  /** Presence frames the clients received from the first send to the end (absent before 2026-12-05). */
  presenceFrames?: number;
  /**
   * Of those, the frames that carried a room's count alone (rooms above
   * PRESENCE_COUNT_ONLY_ABOVE); absent before 2026-12-05.
   */
  presenceCountFrames?: number;
  /** Cores used from the kill until every client was back. */
  cores: CoresUsed;
  /** CPU of the instances (ms) per client that came back, from the kill until all were back. */
  instanceCpuMsPerReconnect: number;
  /** Time from the kill until every client was back (or the wait ended). */
  stormSeconds: number;
  /** The first storm, which ran before this one to warm the processes up (`storm.warmup`). */
  warmup?: {
    affected: number;
    reconnected: number;
    reconnect: LatencySummary;
    lost: number;
    duplicates: number;
  };
}

/** One round of the big-room scenario: the clients in one room, or spread over many. */
export interface BigRoomRound {
  rooms: number;
  connected: number;
  failed: number;
  connectSeconds: number;
  /** One `room:join` acknowledgement in a full room: its JSON's bytes, the members it named, the room's count. */
  joinAck: { bytes: number; members: number; memberCount: number };
  /** One message to every client (the one-room round). */
  broadcast?: { expected: number; delivered: number; latency: LatencySummary };
  storm: StormResult;
  /** Presence frames the clients received in the storm, per client that came back. */
  presenceFramesPerRejoin: number;
  /** The same per connected client, and the presence windows the storm lasted. */
  presenceFramesPerMember: number;
  /** The same per member and presence window (absent before 2026-12-05). */
  presenceFramesPerMemberPerWindow?: number;
  windows: number;
}

export interface BigRoomResult {
  clients: number;
  oneRoom: BigRoomRound;
  manyRooms: BigRoomRound;
}

/** One instance in the fan-out scenario. */
export interface FanoutInstance {
  id: string;
  /** Rooms this instance has sockets in, and those sockets. */
  rooms: number;
  clients: number;
  /** Messages it received from the bus (`switchboard_bus_messages_received_total`, this run's share). */
  received: number;
  /** Messages sent to the rooms it has sockets in: what per-room channels should bring it. */
  roomMessages: number;
  /** Deliveries to its sockets (`switchboard_messages_delivered_total`, this run's share). */
  delivered: number;
  /** received / roomMessages. */
  ratio: number;
}

/** Scenario 6: per-room channels on one Redis. */
export interface FanoutResult {
  instances: number;
  rooms: number;
  clients: number;
  /** Rooms by how many instances hold their clients: "1": rooms on one instance, and so on. */
  roomsBySpread: Record<string, number>;
  sendRate: number;
  sent: number;
  expected: number;
  /** Deliveries the clients showed, and those lost. */
  delivered: number;
  lost: number;
  perInstance: FanoutInstance[];
  /** The highest received / roomMessages of any instance. */
  worstRatio: number;
}

/** Scenario 7: the fixed-load latency on a master and a replica, with the replica acknowledgement on and off. */
export interface ReplicaAckResult {
  sendRate: number;
  on: LatencyResult;
  off: LatencyResult;
}

/** One router's run, for the side-by-side of `--router dev,haproxy`. */
export interface RouterRun {
  router: RouterName;
  /** Per system, the latency scenario's median round (and the best throughput step). */
  systems: Partial<
    Record<
      SystemName,
      {
        latency?: { sendRate: number; deliveredPerSecond: number; p99: number; cores: CoresUsed };
        throughput?: { sendRate: number; deliveredPerSecond: number; cores: CoresUsed };
      }
    >
  >;
}

export interface SystemResults {
  throughput?: ThroughputResult;
  latency?: LatencyResult;
  connections?: ConnectionsResult;
  storm?: StormResult;
  bigroom?: BigRoomResult;
  errors: { scenario: string; message: string }[];
}

export interface BenchReport {
  date: string;
  /** The commit the systems ran from. */
  commit: string;
  profile: BenchConfig["profile"];
  config: BenchConfig;
  machine: MachineInfo;
  /** The environment each system's instances ran with (on top of the supervisor's). */
  settings: Record<SystemName, Record<string, string>>;
  notes: string[];
  /** Cores busy on the machine before the run started, with nothing of ours running. */
  backgroundCores: number;
  systems: Partial<Record<SystemName, SystemResults>>;
  /** Switchboard-only scenarios, when they ran. */
  fanout?: FanoutResult;
  replicaAck?: ReplicaAckResult;
  /** With `--router a,b`: each router's figures at the same load, in the order run. */
  routers?: RouterRun[];
  durationSeconds: number;
}

export const PERCENTILES_FOR_CURVE = [
  1, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 97, 98, 99, 99.5, 99.9, 100,
];
