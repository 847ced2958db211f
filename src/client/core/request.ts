import type { Socket } from "socket.io-client";
import type { ClientToServerEvents, ServerToClientEvents } from "../../protocol/index.ts";

/** The client's socket, typed by the protocol's events. */
export type ChatSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/** What the server answers `E` with, read off the `Ack` that `protocol/` declares for it. */
type AckOf<E extends keyof ClientToServerEvents> =
  Parameters<ClientToServerEvents[E]> extends [unknown, (result: infer R) => void] ? R : never;

/** The events the server acknowledges (every one but `typing`). */
export type RequestEvent = {
  [E in keyof ClientToServerEvents]: [AckOf<E>] extends [never] ? never : E;
}[keyof ClientToServerEvents];

/** The acknowledgement of a request: `{ok: true, ...}` or `{ok: false, error}`. */
export type AckResult<E extends RequestEvent> = AckOf<E>;

/** The payload of a request. */
export type RequestOf<E extends RequestEvent> = Parameters<ClientToServerEvents[E]>[0];

/**
 * Sends a request on `socket` and resolves with the server's acknowledgement;
 * rejects when none came within `timeoutMs`, or when the socket was closed
 * first (Socket.IO then fails every ack it waits for).
 */
export function request<E extends RequestEvent>(
  socket: ChatSocket,
  timeoutMs: number,
  event: E,
  payload: RequestOf<E>,
): Promise<AckResult<E>> {
  const timed = socket.timeout(timeoutMs);
  // Socket.IO's overloads cannot follow a generic event name; the types above
  // are the same ones, taken from the protocol's event map.
  const emit = timed.emitWithAck as (event: E, payload: RequestOf<E>) => Promise<AckResult<E>>;
  return emit.call(timed, event, payload);
}
