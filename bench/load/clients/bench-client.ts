import { randomUUID } from "node:crypto";
import { Agent } from "node:http";
import type { ClientSpec } from "../ipc.ts";

/** How a client tells its worker what happened; `client` is its index in the worker. */
export interface ClientHooks {
  /** `serverTs` is the message's `ts`: when the instance took the send (ms since the epoch). */
  delivered(client: number, text: string, replayed: boolean, serverTs: number): void;
  status(client: number, connected: boolean): void;
  /** A (re)connection attempt begins. */
  attempt(client: number): void;
  sendError(client: number): void;
  reset(client: number): void;
  /**
   * A presence frame arrived (Switchboard only: the references have no
   * presence): `countOnly` when it carried a room's count and no names (a
   * room above PRESENCE_COUNT_ONLY_ABOVE members).
   */
  presence(client: number, countOnly: boolean): void;
}

/** One simulated user connection of any of the three systems. */
export interface BenchClient {
  readonly spec: ClientSpec;
  readonly connected: boolean;
  /** The instance it is connected to (or was, last). */
  readonly instance: string | undefined;
  /** Resolves once connected with its rooms joined. */
  start(): Promise<void>;
  /** Sends a message; false when there was no connection to send it on. */
  send(room: string, text: string): boolean;
  close(): void;
}

/**
 * The worker's connection pool for long-polling requests: kept alive and
 * reused across polls, as a browser does (without it each poll is a new TCP
 * connection through the router). Shared by the clients of every system.
 */
export const keepAliveAgent = new Agent({ keepAlive: true });

/**
 * Messages each simulated user keeps per room, as a chat screen keeps what it
 * shows: Switchboard's room view holds them, and the reference users hold
 * theirs in `RecentMessages`, so that every system's users do the same work
 * (a message that stays on screen outlives the garbage collector's young
 * generation, which a message dropped at once does not).
 */
export const SHOWN_PER_ROOM = 20;

/** The last `SHOWN_PER_ROOM` messages of each room, for the reference users. */
export class RecentMessages<M> {
  private readonly rooms = new Map<string, M[]>();

  add(room: string, message: M): void {
    let shown = this.rooms.get(room);
    if (shown === undefined) {
      shown = [];
      this.rooms.set(room, shown);
    }
    shown.push(message);
    if (shown.length > SHOWN_PER_ROOM) shown.shift();
  }
}

export function newClientId(): string {
  return randomUUID().replaceAll("-", "");
}

/**
 * Socket.IO's own reconnection delay (`reconnectionDelay` 1000,
 * `reconnectionDelayMax` 5000, `randomizationFactor` 0.5), for the clients of
 * the references, which reconnect as a Socket.IO app does by default.
 */
export function socketIoBackoff(attempt: number): number {
  const base = Math.min(1000 * 2 ** Math.min(attempt, 10), 5000);
  const deviation = Math.random() * 0.5 * base;
  return Math.min(Math.floor(Math.random() < 0.5 ? base - deviation : base + deviation), 5000);
}

/** A promise with its resolve, for "the first time it connects". */
export function firstTime(): { promise: Promise<void>; resolve: () => void } {
  let resolve = () => {};
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}
