import type { Server as HttpServer, IncomingMessage, ServerResponse } from "node:http";
import type { Request, RequestHandler } from "express";
import { Server } from "socket.io";
import { originAllowed } from "../http/origin.ts";
import { sessionRoom } from "../http/session.ts";
import type { Keys } from "../store/keys.ts";
import type { RedisConnections } from "../store/redis-connection.ts";
import { type ChatDeps, registerChatHandlers } from "./chat-handlers.ts";
import type { ChatServer } from "./types.ts";

export interface SocketServerDeps {
  keys: Keys;
  allowedOrigins: readonly string[];
  maxSocketsPerSession: number;
  redis: RedisConnections;
  /** Session middleware that never rewrites the cookie (the HTTP API does that). */
  session: RequestHandler;
  maxHttpBufferSize: number;
  isDraining: () => boolean;
}

type EngineRequest = IncomingMessage & { _query?: Record<string, string | undefined> };
type Next = (error?: unknown) => void;

/**
 * The session is read once, at the handshake: later long-polling requests of
 * the same Socket.IO session carry a `sid` and need no Redis round trip.
 */
function onlyForHandshake(middleware: RequestHandler) {
  return (req: EngineRequest, res: ServerResponse, next: Next) => {
    if (req._query?.sid === undefined) {
      middleware(req as Request, res as unknown as Parameters<RequestHandler>[1], next);
    } else {
      next();
    }
  };
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

  io.engine.use(onlyForHandshake(deps.session));
  // Sockets per session on this instance, to bound what one login can hold open.
  const perSession = new Map<string, number>();
  io.use((socket, next) => {
    const req = socket.request as Request;
    // Cross-site WebSocket hijacking: another site's page would carry our cookie.
    if (!originAllowed(req.headers, deps.allowedOrigins)) {
      next(new Error("forbidden_origin"));
      return;
    }
    if (deps.isDraining()) {
      next(new Error("draining"));
      return;
    }
    const user = req.session?.user;
    if (user === undefined) {
      next(new Error("unauthorized"));
      return;
    }
    const open = perSession.get(req.sessionID) ?? 0;
    if (open >= deps.maxSocketsPerSession) {
      next(new Error("too_many_sockets"));
      return;
    }
    perSession.set(req.sessionID, open + 1);
    socket.once("disconnect", () => {
      const left = (perSession.get(req.sessionID) ?? 1) - 1;
      if (left <= 0) perSession.delete(req.sessionID);
      else perSession.set(req.sessionID, left);
    });
    socket.data.user = user.name;
    socket.data.sessionId = req.sessionID;
    socket.data.rooms = new Set();
    socket.data.lastTypingAt = 0;
    next();
  });
  return io;
}

/** Wires the chat events to every new socket. */
export function acceptChat(io: ChatServer, deps: ChatDeps & { instanceId: string }): void {
  const limits = { maxMessageLength: deps.maxMessageLength };
  io.on("connection", (socket) => {
    // All sockets of one login share a room, so a logout anywhere can end them all.
    void socket.join(sessionRoom(socket.data.sessionId));
    registerChatHandlers(socket, deps);
    socket.emit("ready", { user: { name: socket.data.user }, instance: deps.instanceId, limits });
  });
}
