import type { Server, Socket } from "socket.io";
import type {
  ClientToServerEvents,
  PresenceBatch,
  ServerToClientEvents,
} from "../../protocol/index.ts";

/** What an instance knows about one of its sockets. */
export interface SocketData {
  /** Username, from the session at handshake. */
  user: string;
  sessionId: string;
  /** Rooms joined through `room:join`. */
  rooms: Set<string>;
  /** When the socket last relayed a `typing` (ms), for throttling. */
  lastTypingAt: number;
  /** The protocol version the client named in its handshake (1 when it named none). */
  protocol: number;
}

/** What the instances tell each other through the Socket.IO adapter. */
export interface InterServerEvents {
  /** One instance's presence batch, for every instance's own sockets. */
  "presence:batch": (batch: PresenceBatch) => void;
}

export type ChatServer = Server<
  ClientToServerEvents,
  ServerToClientEvents,
  InterServerEvents,
  SocketData
>;
export type ChatSocket = Socket<
  ClientToServerEvents,
  ServerToClientEvents,
  InterServerEvents,
  SocketData
>;
