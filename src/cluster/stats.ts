import type { BackendTable } from "../router/index.ts";
import type { InstanceInfo, InstanceProcess } from "./instance-process.ts";
import type { Supervisor } from "./supervisor.ts";

/** An instance as the dashboard shows it. */
export interface InstanceStats extends InstanceInfo {
  /** Requests in flight plus upgraded sockets through the router right now. */
  routerConnections: number;
  /** Messages stored per second, over the last poll interval. */
  messagesPerSecond: number;
}

export interface ClusterStats {
  at: string;
  desired: number;
  instances: InstanceStats[];
  sockets: number;
  messagesPerSecond: number;
  redis: string;
}

interface HealthBody {
  sockets?: unknown;
  messages?: unknown;
  draining?: unknown;
}

interface Sample {
  messages: number;
  at: number;
  rate: number;
}

/**
 * Polls every instance's /healthz once a second: socket counts and the
 * messages counter (messages per second is the difference between two polls).
 * An instance that says it is draining (someone sent it SIGTERM directly) is
 * taken out of routing at once.
 */
export class StatsPoller {
  private timer: NodeJS.Timeout | undefined;
  private readonly samples = new Map<string, Sample>();
  private polling = false;

  constructor(
    private readonly supervisor: Supervisor,
    private readonly table: BackendTable,
    private readonly redis: string,
    private readonly intervalMs = 1000,
  ) {}

  start(): void {
    this.timer ??= setInterval(() => void this.poll(), this.intervalMs);
    void this.poll();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  snapshot(): ClusterStats {
    const instances = this.supervisor.list().map((info): InstanceStats => {
      const backend = this.table.get(info.id);
      const sample = this.samples.get(info.id);
      return {
        ...info,
        routerConnections: backend === undefined ? 0 : backend.inflight + backend.upgraded,
        messagesPerSecond: info.state === "exited" ? 0 : (sample?.rate ?? 0),
      };
    });
    const rate = instances.reduce((sum, i) => sum + i.messagesPerSecond, 0);
    return {
      at: new Date().toISOString(),
      desired: this.supervisor.desiredInstances,
      instances,
      sockets: instances.reduce((sum, i) => sum + i.sockets, 0),
      messagesPerSecond: Math.round(rate * 10) / 10,
      redis: this.redis,
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
      const known = new Set(polled.map((i) => i.id));
      for (const id of this.samples.keys()) if (!known.has(id)) this.samples.delete(id);
    } finally {
      this.polling = false;
    }
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
    if (typeof body.sockets === "number") instance.sockets = body.sockets;
    if (body.draining === true && instance.state === "running") {
      instance.state = "draining";
      this.table.markDraining(instance.id);
    }
    if (typeof body.messages !== "number") return;
    const now = Date.now();
    const previous = this.samples.get(instance.id);
    const seconds = previous === undefined ? 0 : (now - previous.at) / 1000;
    const rate =
      previous === undefined || seconds <= 0
        ? 0
        : Math.max(0, body.messages - previous.messages) / seconds;
    instance.messages = body.messages;
    this.samples.set(instance.id, { messages: body.messages, at: now, rate });
  }
}
