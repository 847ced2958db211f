import type { Server as HttpServer, IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { Server } from "socket.io";
import { HandshakeRefusal, PROTOCOL_VERSION } from "../../protocol/index.ts";
import { originAllowed } from "../auth/origin.ts";
import { type Sessions, type SocketSession, sessionRoom } from "../auth/session.ts";
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
  const admit = async (
    socket: Parameters<Parameters<ChatServer["use"]>[0]>[0],
  ): Promise<HandshakeRefusal | undefined> => {
    const headers = socket.handshake.headers;
    // Cross-site WebSocket hijacking: another site's page would carry our cookie.
    if (!originAllowed(headers, deps.allowedOrigins)) return HandshakeRefusal.ForbiddenOrigin;
    if (deps.isDraining()) return HandshakeRefusal.Draining;
    let session: SocketSession | undefined;
    try {
      session = await deps.readSession(headers);
    } catch {
      return HandshakeRefusal.Unavailable;
    }
    if (session === undefined) return HandshakeRefusal.Unauthorized;
    const { sessionId, user } = session;
    const open = perSession.get(sessionId) ?? 0;
    if (open >= deps.maxSocketsPerSession) return HandshakeRefusal.TooManySockets;
    perSession.set(sessionId, open + 1);
    socket.on("disconnect", release);
    socket.data.user = user;
    socket.data.sessionId = sessionId;
    socket.data.rooms = new Set();
    socket.data.lastTypingAt = 0;
    socket.data.protocol = 1;
    // Everything needed is in socket.data now; the handshake request and its
    // headers need not stay in memory for the socket's life.
    socket.handshake.headers = {};
    (socket.conn as unknown as { request: unknown }).request = null;
    return undefined;
  };
  io.use((socket, next) => {
    admit(socket).then((refusal) => next(refusal === undefined ? undefined : new Error(refusal)));
  });
  releaseUpgradeRequests(io);
  return io;
}

/**
 * engine.io wraps a WebSocket handshake in a response object for upgrade
 * middlewares (this server has none), which listens for the raw socket's
 * "close" for the connection's whole life, and so keeps itself and the
 * handshake request in memory: about a kilobyte per idle connection. That
 * listener is the first "close" listener handleUpgrade adds (in the
 * response's constructor, before anything else runs), and a `once` one; it
 * is taken off again. If engine.io ever adds something else first, nothing
 * is removed.
 */
function releaseUpgradeRequests(io: ChatServer): void {
  type HandleUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
  const engine = io.engine as unknown as { handleUpgrade: HandleUpgrade };
  const handleUpgrade = engine.handleUpgrade.bind(engine);
  engine.handleUpgrade = (req, socket, head) => {
    const before = socket.rawListeners("close").length;
    handleUpgrade(req, socket, head);
    const added = socket.rawListeners("close")[before] as { listener?: unknown } | undefined;
    if (typeof added?.listener === "function") {
      socket.removeListener("close", added as (...args: unknown[]) => void);
    }
  };
}

/** Wires the chat events to every new socket. */
export function acceptChat(io: ChatServer, deps: ChatDeps & { instanceId: string }): void {
  const limits = { maxMessageLength: deps.maxMessageLength };
  const chat = chatHandlers(deps);
  io.on("connection", (socket) => {
    // All sockets of one login share a room, so a logout anywhere can end them all.
    void socket.join(sessionRoom(socket.data.sessionId));
    chat.wire(socket);
    // The socket keeps its handshake for life; an idle connection need not keep the rooms it asked for.
    const auth = socket.handshake.auth;
    socket.handshake.auth = {};
    void chat.rejoin(socket, auth).then((rejoin) => {
      if (socket.disconnected) return;
      socket.emit("ready", {
        user: { name: socket.data.user },
        instance: deps.instanceId,
        protocol: PROTOCOL_VERSION,
        limits,
        ...(rejoin === undefined ? {} : { rejoin }),
      });
    });
  });
}
