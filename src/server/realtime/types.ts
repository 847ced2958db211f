import type { Server, Socket } from "socket.io";
import type { ClientToServerEvents, ServerToClientEvents } from "../../protocol/index.ts";

/** What an instance knows about one of its sockets. */
export interface SocketData {
  /** Username, from the session at handshake. */
  user: string;
  sessionId: string;
  /** Rooms joined through `room:join`. */
  rooms: Set<string>;
  /** When the socket last relayed a `typing` (ms), for throttling. */
  lastTypingAt: number;
}

export type ChatServer = Server<
  ClientToServerEvents,
  ServerToClientEvents,
  Record<string, never>,
  SocketData
>;
export type ChatSocket = Socket<
  ClientToServerEvents,
  ServerToClientEvents,
  Record<string, never>,
  SocketData
>;
