import type { BackendState } from "./backends.ts";

/** Open work on a backend: requests in flight plus upgraded sockets. */
export function loadOf(backend: BackendState): number {
  return backend.inflight + backend.upgraded;
}

/**
 * Least connections, ties broken round-robin: the scan starts one place
 * further each time, so that idle backends take turns instead of the first
 * one taking every request of a quiet cluster.
 */
export class LeastConnections {
  private next = 0;

  pick(candidates: readonly BackendState[]): BackendState | undefined {
    if (candidates.length === 0) return undefined;
    const start = this.next % candidates.length;
    this.next = (this.next + 1) % Number.MAX_SAFE_INTEGER;
    let best: BackendState | undefined;
    for (let i = 0; i < candidates.length; i++) {
      const candidate = candidates[(start + i) % candidates.length];
      if (candidate === undefined) continue;
      if (best === undefined || loadOf(candidate) < loadOf(best)) best = candidate;
    }
    return best;
  }
}
