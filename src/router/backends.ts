/** An instance the router can send requests to. */
export interface Backend {
  /** The instance id: the value of `__VCAP_ID__` and of the instance's `X-Instance-Id`. */
  readonly id: string;
  readonly host: string;
  readonly port: number;
}

/**
 * The routing table, as the supervisor drives it: it adds an instance once it
 * answers `/healthz`, marks it draining before it sends SIGTERM, and removes
 * it when the process has exited. The router never starts or stops anything.
 */
export interface BackendRegistry {
  add(backend: Backend): void;
  /** No new work for this backend (affinity included); what is open stays open. */
  markDraining(id: string): void;
  remove(id: string): void;
}

/** A backend with the router's view of its load. */
export interface BackendState extends Backend {
  draining: boolean;
  /** HTTP requests being proxied to it right now. */
  inflight: number;
  /** Upgraded (WebSocket) connections open through the router. */
  upgraded: number;
}

/** The table the router reads; it keeps insertion order, which the balancer's round-robin follows. */
export class BackendTable implements BackendRegistry {
  private readonly backends = new Map<string, BackendState>();

  add(backend: Backend): void {
    const existing = this.backends.get(backend.id);
    this.backends.set(backend.id, {
      id: backend.id,
      host: backend.host,
      port: backend.port,
      draining: false,
      inflight: existing?.inflight ?? 0,
      upgraded: existing?.upgraded ?? 0,
    });
  }

  markDraining(id: string): void {
    const backend = this.backends.get(id);
    if (backend !== undefined) backend.draining = true;
  }

  remove(id: string): void {
    this.backends.delete(id);
  }

  get(id: string): BackendState | undefined {
    return this.backends.get(id);
  }

  /** Every backend, draining ones included. */
  all(): BackendState[] {
    return [...this.backends.values()];
  }

  /** The backends that take new work. */
  live(): BackendState[] {
    return this.all().filter((backend) => !backend.draining);
  }
}
