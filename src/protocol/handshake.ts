import { ErrorCode } from "./errors.ts";

/**
 * Why the server refused a Socket.IO handshake: the message of the client's
 * `connect_error`. All but `draining` are error codes of their own.
 */
export const HandshakeRefusal = {
  /** No logged-in session: the client asks `GET /api/session` and shows the login page. */
  Unauthorized: ErrorCode.Unauthorized,
  /** The page's origin is not allowed (cross-site WebSocket hijacking). */
  ForbiddenOrigin: ErrorCode.ForbiddenOrigin,
  /** The login holds `MAX_SOCKETS_PER_SESSION` connections on this instance already. */
  TooManySockets: ErrorCode.TooManySockets,
  /** The session could not be read (Redis unreachable). */
  Unavailable: ErrorCode.Unavailable,
  /** The instance is shutting down: reconnect, and the router picks another. */
  Draining: "draining",
} as const;

export type HandshakeRefusal = (typeof HandshakeRefusal)[keyof typeof HandshakeRefusal];
