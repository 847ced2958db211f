import type { Logger } from "../../logger.ts";
import { isTransientRedisError, storageUnavailable } from "../redis-errors.ts";

/** Reconnect quickly at first, then every 2 s at most, with jitter, forever. */
export function reconnectStrategy(retries: number): number {
  return Math.min(50 * 2 ** retries, 2000) + Math.floor(Math.random() * 100);
}

interface Closable {
  on(event: "error", listener: (error: Error) => void): unknown;
}

/** One line per 5 s per connection: a dead Redis raises an error per reconnect attempt. */
export function logErrors(connection: Closable, name: string, log: Logger): void {
  let lastLogged = 0;
  connection.on("error", (error: Error | string) => {
    const now = Date.now();
    if (now - lastLogged < 5000) return;
    lastLogged = now;
    const err = typeof error === "string" ? error : error.message;
    log.warn({ connection: name, err }, "redis connection error");
  });
}

/** Closes each connection, destroying the ones that cannot close (Redis gone). */
export async function closeAll(
  connections: { isOpen: boolean; close(): Promise<unknown>; destroy(): unknown }[],
): Promise<void> {
  for (const connection of connections) {
    try {
      if (connection.isOpen) await connection.close();
    } catch {
      connection.destroy();
    }
  }
}

/** Rejects with `unavailable` when `work` has not settled after `ms`; the work itself goes on. */
export function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(storageUnavailable(new Error(`no answer in ${ms} ms`))), ms);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

/**
 * Runs a command; an error that says Redis is unreachable or failing over is
 * retried (the commands Switchboard sends are safe to repeat: the append
 * script deduplicates by clientId) until `budgetMs` has passed, then
 * answered as `unavailable`, which clients retry. `onTransient` is told of
 * every such error, to refresh the topology.
 */
export async function retrying<T>(
  run: () => Promise<T>,
  budgetMs: number,
  onTransient: (error: unknown) => void = () => undefined,
): Promise<T> {
  const deadline = Date.now() + budgetMs;
  for (let attempt = 0; ; attempt++) {
    try {
      return await run();
    } catch (error) {
      if (!isTransientRedisError(error)) throw error;
      onTransient(error);
      const wait = Math.min(100 * 2 ** attempt, 500);
      if (Date.now() + wait > deadline) throw storageUnavailable(error);
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}

/** Asks `probe` every second whether Redis answers; the last answer is the health. */
export function healthProbe(
  probe: () => Promise<unknown>,
  timeoutMs = 1000,
): {
  healthy(): boolean;
  stop(): void;
} {
  let healthy = true;
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    withDeadline(probe(), timeoutMs)
      .then(
        () => {
          healthy = true;
        },
        () => {
          healthy = false;
        },
      )
      .finally(() => {
        running = false;
      });
  }, 1000);
  timer.unref();
  return { healthy: () => healthy, stop: () => clearInterval(timer) };
}

/** Number of replicas in an `INFO replication` reply. */
export function connectedReplicas(info: string): number {
  return Number(/connected_slaves:(\d+)/.exec(info)?.[1] ?? 0);
}

/** Number of replicas that an `INFO replication` reply shows online (a replica still syncing cannot confirm a WAIT). */
export function onlineReplicas(info: string): number {
  return info.match(/^slave\d+:.*\bstate=online\b/gm)?.length ?? 0;
}

interface Reconnecting {
  readonly isReady: boolean;
  on(event: "ready", listener: () => void): unknown;
}

/**
 * Names connections and each of their sessions: a reconnect starts another
 * one, on which a WAIT knows nothing of the writes made before it.
 */
export class ConnectionMarks {
  private readonly sessions = new WeakMap<Reconnecting, { id: number; session: number }>();
  private ids = 0;

  /** The mark of `connection` as it is now; undefined while it is not ready. */
  of(connection: Reconnecting | undefined): string | undefined {
    if (connection?.isReady !== true) return undefined;
    let known = this.sessions.get(connection);
    if (known === undefined) {
      this.ids += 1;
      const entry = { id: this.ids, session: 0 };
      connection.on("ready", () => {
        entry.session += 1;
      });
      this.sessions.set(connection, entry);
      known = entry;
    }
    return `${known.id}.${known.session}`;
  }
}
