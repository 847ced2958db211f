import type { Server as HttpServer } from "node:http";
import { Server } from "socket.io";
import { originAllowed } from "../http/origin.ts";
import { type Sessions, type SocketSession, sessionRoom } from "../http/session.ts";
import type { Keys } from "../store/keys.ts";
import type { RedisConnections } from "../store/redis-connection.ts";
import { type ChatDeps, chatHandlers } from "./chat-handlers.ts";
import type { ChatServer, ChatSocket } from "./types.ts";

export interface SocketServerDeps {
  keys: Keys;
  allowedOrigins: readonly string[];
  maxSocketsPerSession: number;
  redis: RedisConnections;
  /** Reads the logged-in user of a handshake from its cookie. */
  readSession: Sessions["readForSocket"];
  maxHttpBufferSize: number;
  isDraining: () => boolean;
}

/** The Socket.IO server with the Redis adapter; sockets need a logged-in session. */
export function createSocketServer(httpServer: HttpServer, deps: SocketServerDeps): ChatServer {
  const io: ChatServer = new Server(httpServer, {
    serveClient: false,
    pingInterval: 25_000,
    pingTimeout: 20_000,
    maxHttpBufferSize: deps.maxHttpBufferSize,
    adapter: deps.redis.adapter(deps.keys.adapterPrefix),
  });

  // Sockets per session on this instance, to bound what one login can hold open.
  const perSession = new Map<string, number>();
  // One listener for every socket: a closure per socket would cost each idle connection.
  const release = function (this: ChatSocket) {
    const left = (perSession.get(this.data.sessionId) ?? 1) - 1;
    if (left <= 0) perSession.delete(this.data.sessionId);
    else perSession.set(this.data.sessionId, left);
  };
  const admit = async (socket: Parameters<Parameters<ChatServer["use"]>[0]>[0]) => {
    const headers = socket.handshake.headers;
    // Cross-site WebSocket hijacking: another site's page would carry our cookie.
    if (!originAllowed(headers, deps.allowedOrigins)) return "forbidden_origin";
    if (deps.isDraining()) return "draining";
    let session: SocketSession | undefined;
    try {
      session = await deps.readSession(headers);
    } catch {
      return "unavailable";
    }
    if (session === undefined) return "unauthorized";
    const { sessionId, user } = session;
    const open = perSession.get(sessionId) ?? 0;
    if (open >= deps.maxSocketsPerSession) return "too_many_sockets";
    perSession.set(sessionId, open + 1);
    socket.on("disconnect", release);
    socket.data.user = user;
    socket.data.sessionId = sessionId;
    socket.data.rooms = new Set();
    socket.data.lastTypingAt = 0;
    // Everything needed is in socket.data now; the handshake request need not
    // stay in memory for the socket's life. engine.io still holds the request
    // of a WebSocket handshake (through a listener on the raw socket), so its
    // headers, the largest part of it, are let go of as well.
    const request = socket.request as { headers: unknown; rawHeaders: unknown };
    request.headers = {};
    request.rawHeaders = [];
    socket.handshake.headers = {};
    (socket.conn as unknown as { request: unknown }).request = null;
    return undefined;
  };
  io.use((socket, next) => {
    admit(socket).then((refusal) => next(refusal === undefined ? undefined : new Error(refusal)));
  });
  return io;
}

/** Wires the chat events to every new socket. */
export function acceptChat(io: ChatServer, deps: ChatDeps & { instanceId: string }): void {
  const limits = { maxMessageLength: deps.maxMessageLength };
  const wire = chatHandlers(deps);
  io.on("connection", (socket) => {
    // All sockets of one login share a room, so a logout anywhere can end them all.
    void socket.join(sessionRoom(socket.data.sessionId));
    wire(socket);
    socket.emit("ready", { user: { name: socket.data.user }, instance: deps.instanceId, limits });
  });
}
