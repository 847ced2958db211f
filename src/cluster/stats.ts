import type { HealthResponse } from "../protocol/index.ts";
import type { BackendTable, RouterFigures } from "../router/index.ts";
import type {
  ClusterStats,
  InstanceStats,
  RedisStats,
  RouterStats,
  StatsPoint,
} from "./admin-contract.ts";
import type { InstanceProcess } from "./instance-process.ts";
import type { Supervisor } from "./supervisor.ts";

export interface StatsSources {
  /** The Redis the instances use, as the dashboard shows it. */
  redis: () => RedisStats;
  /** The router's counts since its start and its open connections. */
  router: () => RouterFigures;
  /** @default 1000 */
  intervalMs?: number;
  /** How far back the charts' points reach. @default 300000 (5 minutes) */
  historyMs?: number;
}

/** What the poller reads from /healthz; anything may be missing or wrong in an older instance. */
type HealthBody = { [K in keyof HealthResponse]?: unknown };

interface Sample {
  messages: number;
  at: number;
  rate: number;
  eventLoopLagMs?: number;
  rssBytes?: number;
  heapUsedBytes?: number;
}

function numberOr(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

const round1 = (value: number) => Math.round(value * 10) / 10;

/**
 * Polls every instance's /healthz once a second: socket counts, the messages
 * counter (messages per second is the difference between two polls), the
 * event loop's delay and memory; keeps the last minutes of them per instance
 * for the dashboard's charts, and the router's requests per second the same
 * way. An instance that says it is draining (someone sent it SIGTERM
 * directly) is taken out of routing at once.
 */
export class StatsPoller {
  private timer: NodeJS.Timeout | undefined;
  private readonly samples = new Map<string, Sample>();
  private readonly history = new Map<string, StatsPoint[]>();
  private readonly intervalMs: number;
  private readonly historyMs: number;
  private routerSample: { requests: number; at: number; rate: number } | undefined;
  private polling = false;

  constructor(
    private readonly supervisor: Supervisor,
    private readonly table: BackendTable,
    private readonly sources: StatsSources,
  ) {
    this.intervalMs = sources.intervalMs ?? 1000;
    this.historyMs = sources.historyMs ?? 300_000;
  }

  start(): void {
    this.timer ??= setInterval(() => void this.poll(), this.intervalMs);
    void this.poll();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  snapshot(): ClusterStats {
    const listed = this.supervisor.list();
    const instances = listed.map((info): InstanceStats => {
      const backend = this.table.get(info.id);
      const sample = this.samples.get(info.id);
      const gone = info.state === "exited";
      return {
        ...info,
        routerConnections: backend === undefined ? 0 : backend.inflight + backend.upgraded,
        messagesPerSecond: gone ? 0 : round1(sample?.rate ?? 0),
        ...(gone || sample === undefined ? {} : figuresOf(sample)),
      };
    });
    const history: Record<string, StatsPoint[]> = {};
    for (const info of listed) {
      const points = this.history.get(info.id);
      if (points !== undefined) history[info.id] = [...points];
    }
    const redisTopology = this.sources.redis();
    const rate = instances.reduce((sum, i) => sum + i.messagesPerSecond, 0);
    return {
      at: new Date().toISOString(),
      desired: this.supervisor.desiredInstances,
      instances,
      sockets: instances.reduce((sum, i) => sum + i.sockets, 0),
      messagesPerSecond: round1(rate),
      redis: redisTopology.describe,
      redisTopology,
      router: this.routerStats(),
      history,
    };
  }

  private routerStats(): RouterStats {
    const figures = this.sources.router();
    return {
      connections: figures.connections,
      requestsPerSecond: round1(this.routerSample?.rate ?? 0),
      errors: figures.errors,
    };
  }

  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const polled = this.supervisor
        .live()
        .filter((i) => i.state === "running" || i.state === "draining");
      await Promise.all(polled.map((instance) => this.pollOne(instance)));
      this.pollRouter();
      const now = Date.now();
      for (const instance of polled) this.record(instance, now);
      const known = new Set(polled.map((i) => i.id));
      for (const id of this.samples.keys()) if (!known.has(id)) this.samples.delete(id);
      // An exited instance's chart stays while the supervisor still lists it.
      const listed = new Set(this.supervisor.list().map((i) => i.id));
      for (const id of this.history.keys()) if (!listed.has(id)) this.history.delete(id);
    } finally {
      this.polling = false;
    }
  }

  private pollRouter(): void {
    const { requests } = this.sources.router();
    const now = Date.now();
    const previous = this.routerSample;
    const seconds = previous === undefined ? 0 : (now - previous.at) / 1000;
    const rate =
      previous === undefined || seconds <= 0
        ? 0
        : Math.max(0, requests - previous.requests) / seconds;
    this.routerSample = { requests, at: now, rate };
  }

  /** One chart point per poll; points older than the history's reach fall off the front. */
  private record(instance: InstanceProcess, now: number): void {
    const sample = this.samples.get(instance.id);
    let points = this.history.get(instance.id);
    if (points === undefined) {
      points = [];
      this.history.set(instance.id, points);
    }
    const point: StatsPoint = {
      t: now,
      sockets: instance.sockets,
      messagesPerSecond: round1(sample?.rate ?? 0),
    };
    if (sample?.eventLoopLagMs !== undefined) point.eventLoopLagMs = sample.eventLoopLagMs;
    if (sample?.rssBytes !== undefined) point.rssBytes = sample.rssBytes;
    points.push(point);
    const oldest = now - this.historyMs;
    let drop = 0;
    while (drop < points.length && (points[drop]?.t ?? now) < oldest) drop++;
    if (drop > 0) points.splice(0, drop);
  }

  private async pollOne(instance: InstanceProcess): Promise<void> {
    let body: HealthBody;
    try {
      const res = await fetch(`${instance.url}/healthz`, {
        signal: AbortSignal.timeout(Math.max(200, this.intervalMs - 100)),
      });
      body = (await res.json()) as HealthBody;
    } catch {
      return;
    }
    if (typeof body !== "object" || body === null) return;
    if (typeof body.sockets === "number") instance.sockets = body.sockets;
    if (body.draining === true && instance.state === "running") {
      instance.state = "draining";
      this.table.markDraining(instance.id);
    }
    const messages = numberOr(body.messages);
    if (messages === undefined) return;
    const now = Date.now();
    const previous = this.samples.get(instance.id);
    const seconds = previous === undefined ? 0 : (now - previous.at) / 1000;
    const rate =
      previous === undefined || seconds <= 0
        ? 0
        : Math.max(0, messages - previous.messages) / seconds;
    instance.messages = messages;
    const sample: Sample = { messages, at: now, rate };
    const lag = numberOr(body.eventLoopLagMs);
    const rss = numberOr(body.rssBytes);
    const heap = numberOr(body.heapUsedBytes);
    if (lag !== undefined) sample.eventLoopLagMs = lag;
    if (rss !== undefined) sample.rssBytes = rss;
    if (heap !== undefined) sample.heapUsedBytes = heap;
    this.samples.set(instance.id, sample);
  }
}

function figuresOf(
  sample: Sample,
): Pick<InstanceStats, "eventLoopLagMs" | "rssBytes" | "heapUsedBytes"> {
  const figures: Pick<InstanceStats, "eventLoopLagMs" | "rssBytes" | "heapUsedBytes"> = {};
  if (sample.eventLoopLagMs !== undefined) figures.eventLoopLagMs = sample.eventLoopLagMs;
  if (sample.rssBytes !== undefined) figures.rssBytes = sample.rssBytes;
  if (sample.heapUsedBytes !== undefined) figures.heapUsedBytes = sample.heapUsedBytes;
  return figures;
}
