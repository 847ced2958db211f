import type { SystemName } from "../load/ipc.ts";

export const SCENARIOS = [
  "throughput",
  "latency",
  "connections",
  "storm",
  "bigroom",
  "fanout",
  "replica-ack",
] as const;
/** Scenarios that run only when named: each takes long, or a Redis setup of its own. */
export const ON_REQUEST: readonly ScenarioName[] = ["bigroom", "fanout", "replica-ack"];
/** Scenarios that run on the three systems' clusters (the others start clusters of their own). */
export const SYSTEM_SCENARIOS: readonly ScenarioName[] = [
  "throughput",
  "latency",
  "connections",
  "storm",
  "bigroom",
];
export const ROUTERS = ["dev", "haproxy"] as const;
export type RouterName = (typeof ROUTERS)[number];
export type ScenarioName = (typeof SCENARIOS)[number];

/** Every knob of one benchmark run. */
export interface BenchConfig {
  profile: "full" | "quick" | "tiny";
  systems: SystemName[];
  scenarios: ScenarioName[];
  /** Load-generator worker processes. */
  workers: number;
  /** Logins created per system and shared by all clients (one scrypt each). */
  sessions: number;
  instances: number;
  /**
   * What the clients connect through: the supervisor's own sticky router
   * ("dev", what npm start runs), or a real HAProxy from deploy/haproxy.cfg
   * in front of the same instances ("haproxy"). @default "dev"
   */
  router: RouterName;
  /** Longest wait for a quiet machine before each cluster starts (0: do not wait). */
  quietWaitMs: number;
  throughput: {
    clients: number;
    rooms: number;
    stepMs: number;
    /** First offered send rate (messages sent per second, all clients together). */
    startRate: number;
    maxRate: number;
    /** Halvings of the gap between the last rate that held and the first that did not. */
    refineSteps: number;
    /** Send rates to run instead of searching (the test uses one). */
    fixedRates?: number[];
    p99LimitMs: number;
    /** How long after the last send a missing delivery still counts as late rather than lost. */
    drainMs: number;
    /** A first step at half the start rate, not reported (JIT, pools). */
    warmupMs: number;
  };
  latency: {
    /** Sending time per system, over all rounds. */
    durationMs: number;
    /** Rounds the systems take turns in (order rotating); each system's median round is reported. */
    rounds: number;
    /** Send rate when the plain reference's maximum is not known (it did not run). */
    fallbackRate: number;
    /**
     * A send rate that overrides both (so that runs through two routers
     * carry the same load: the second takes the first's rate). @default unset
     */
    rate?: number;
  };
  connections: {
    clients: number;
    concurrency: number;
    timeoutMs: number;
    /** Quiet time before the memory is read, once everyone is connected. */
    idleMs: number;
  };
  storm: {
    clients: number;
    rooms: number;
    /**
     * Messages sent per second, all clients together, through the storm: well
     * below what every system holds, so that the storm measures reconnection
     * and not an overload (the router proxies every delivery on the same cores).
     */
    rate: number;
    /** Chat before the kill and after everyone is back (ms). */
    calmMs: number;
    /** Longest wait for the clients of the killed instance to be back. */
    maxWaitMs: number;
    drainMs: number;
    /**
     * Runs a first storm of the same size before the measured one, and kills
     * its replacement instance in the measured one: the survivors have run
     * the reconnection paths before (see `runStorm`).
     */
    warmup: boolean;
  };
  /** Scenario 5: one big room against the same clients in many rooms (`runBigRoom`). */
  bigroom: {
    /** Connections, each its own user (Switchboard; the references share the run's logins). */
    clients: number;
    /** Rooms of the comparison round (the first round has one). */
    rooms: number;
    /** Messages sent per second per room through the storm: the same per member in both rounds. */
    ratePerRoom: number;
    concurrency: number;
    connectTimeoutMs: number;
    calmMs: number;
    maxWaitMs: number;
    drainMs: number;
  };
  /**
   * Scenario 6, per-room channels (`runFanout`): Switchboard alone on one
   * Redis, `instances` instances, `rooms` rooms whose clients sit on one
   * instance, on two, or on half of them; each instance's messages received
   * from the bus against the messages of the rooms it has sockets in.
   */
  fanout: {
    instances: number;
    rooms: number;
    /** Messages sent per second, all rooms together. */
    rate: number;
    durationMs: number;
    drainMs: number;
  };
}

const QUIET_WAIT_MS = 60_000;

const ALL_SYSTEMS: SystemName[] = ["switchboard", "plain", "ceiling"];

export function fullConfig(): BenchConfig {
  return {
    profile: "full",
    systems: [...ALL_SYSTEMS],
    // The big room (it alone takes longer than the rest), the fan-out and the replica
    // acknowledgement (clusters and Redis setups of their own) run when named.
    scenarios: SCENARIOS.filter((s) => !ON_REQUEST.includes(s)),
    workers: 4,
    sessions: 200,
    instances: 3,
    router: "dev",
    quietWaitMs: QUIET_WAIT_MS,
    throughput: {
      clients: 1000,
      rooms: 10,
      stepMs: 5000,
      startRate: 25,
      maxRate: 12_800,
      refineSteps: 4,
      p99LimitMs: 250,
      drainMs: 5000,
      warmupMs: 1000,
    },
    latency: { durationMs: 20_000, rounds: 10, fallbackRate: 100 },
    connections: { clients: 10_000, concurrency: 400, timeoutMs: 180_000, idleMs: 3000 },
    storm: {
      clients: 3000,
      rooms: 30,
      rate: 20,
      calmMs: 3000,
      maxWaitMs: 30_000,
      drainMs: 10_000,
      warmup: true,
    },
    bigroom: {
      clients: 10_000,
      rooms: 100,
      ratePerRoom: 1,
      concurrency: 400,
      connectTimeoutMs: 300_000,
      calmMs: 3000,
      maxWaitMs: 60_000,
      drainMs: 20_000,
    },
    fanout: { instances: 6, rooms: 60, rate: 60, durationMs: 20_000, drainMs: 5000 },
  };
}

/** Each scenario's section, with only the knobs that differ from the full run. */
type Section = "throughput" | "latency" | "connections" | "storm" | "bigroom" | "fanout";
type Overrides = Partial<Omit<BenchConfig, Section>> & {
  [S in Section]?: Partial<BenchConfig[S]>;
};

/** The full run with some knobs changed: a smaller run says only how it differs. */
function derive(overrides: Overrides): BenchConfig {
  const base = fullConfig();
  return {
    ...base,
    ...overrides,
    throughput: { ...base.throughput, ...overrides.throughput },
    latency: { ...base.latency, ...overrides.latency },
    connections: { ...base.connections, ...overrides.connections },
    storm: { ...base.storm, ...overrides.storm },
    bigroom: { ...base.bigroom, ...overrides.bigroom },
    fanout: { ...base.fanout, ...overrides.fanout },
  };
}

export function quickConfig(): BenchConfig {
  return derive({
    profile: "quick",
    workers: 2,
    sessions: 20,
    quietWaitMs: 20_000,
    throughput: {
      clients: 200,
      stepMs: 1000,
      startRate: 200,
      maxRate: 6400,
      refineSteps: 2,
      drainMs: 2000,
      warmupMs: 500,
    },
    latency: { durationMs: 2000, rounds: 2 },
    connections: { clients: 600, concurrency: 200, timeoutMs: 60_000, idleMs: 500 },
    storm: { clients: 300, rooms: 10, rate: 10, calmMs: 500, maxWaitMs: 15_000, drainMs: 5000 },
    bigroom: { clients: 1200, rooms: 12, concurrency: 200, calmMs: 1000, maxWaitMs: 30_000 },
    fanout: { rooms: 30, rate: 60, durationMs: 5000, drainMs: 3000 },
  });
}

/** The smallest run that still exercises every part: for the test. */
export function tinyConfig(): BenchConfig {
  return derive({
    profile: "tiny",
    workers: 2,
    sessions: 2,
    // Two are enough to kill one and reconnect to the other, and start in two thirds of the time.
    instances: 2,
    quietWaitMs: 0,
    throughput: {
      clients: 12,
      rooms: 3,
      stepMs: 1000,
      startRate: 20,
      maxRate: 20,
      refineSteps: 0,
      fixedRates: [20],
      drainMs: 1500,
      warmupMs: 0,
    },
    latency: { durationMs: 1000, rounds: 2, fallbackRate: 20 },
    connections: { clients: 24, concurrency: 24, timeoutMs: 20_000, idleMs: 200 },
    // plain and ceiling lose messages in a storm by design: each of their storms waits the whole drain.
    storm: { clients: 12, rooms: 3, rate: 10, calmMs: 500, maxWaitMs: 10_000, drainMs: 1500 },
    bigroom: {
      clients: 24,
      rooms: 4,
      ratePerRoom: 2,
      concurrency: 24,
      connectTimeoutMs: 20_000,
      calmMs: 500,
      maxWaitMs: 10_000,
      drainMs: 2000,
    },
    fanout: { instances: 3, rooms: 9, rate: 30, durationMs: 1500, drainMs: 1500 },
  });
}
