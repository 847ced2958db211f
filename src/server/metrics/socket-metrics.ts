import type { ChatServer, ChatSocket } from "../realtime/types.ts";
import type { Metrics } from "./registry.ts";

type AckFn = (result: unknown) => void;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

/** "ok", or the error code of a failed result. */
function outcomeOf(result: unknown): string {
  if (!isRecord(result)) return "unknown";
  if (result.ok === true) return "ok";
  const error = result.error;
  return isRecord(error) && typeof error.code === "string" ? error.code : "unknown";
}

function hasSince(request: unknown): boolean {
  return isRecord(request) && request.since !== undefined;
}

/**
 * Watches the Socket.IO server from outside the chat code: connections and
 * disconnections, the acknowledgements of `message:send` (latency, rate-limit
 * refusals) and of `room:join` and the handshake's rejoin (recoveries), and
 * the messages the fan-out emits to this instance's sockets. Call it before
 * the chat's own connection listener is added (it reads the handshake's
 * rooms, which the chat clears). Per socket it adds no closure: the
 * listeners are shared functions, as the chat's are, so an idle connection
 * costs no more.
 */
export function watchSockets(io: ChatServer, metrics: Metrics): void {
  metrics.countSocketsWith(() => {
    const counts = new Map<string, number>();
    for (const socket of io.of("/").sockets.values()) {
      const transport = socket.conn.transport.name;
      counts.set(transport, (counts.get(transport) ?? 0) + 1);
    }
    return counts;
  });

  // Acks are the last argument of an event; wrapping it times the answer.
  const timeAcks = (packet: unknown[], next: (error?: Error) => void) => {
    const event = packet[0];
    const last = packet.length - 1;
    const ack = packet[last];
    if (last > 0 && typeof ack === "function") {
      if (event === "message:send") {
        const end = metrics.sendAck.startTimer();
        packet[last] = (result: unknown) => {
          const outcome = outcomeOf(result);
          end({ outcome });
          if (outcome === "rate_limited") metrics.rateLimited.inc({ kind: "message" });
          (ack as AckFn)(result);
        };
      } else if (event === "room:join" && hasSince(packet[1])) {
        packet[last] = (result: unknown) => {
          countRecovery(result);
          (ack as AckFn)(result);
        };
      }
    }
    next();
  };
  const countRecovery = (reply: unknown) => {
    if (!isRecord(reply) || reply.ok !== true) return;
    metrics.recoveries.inc({ outcome: reply.recovered === true ? "recovered" : "fell_back" });
  };

  // The rooms a handshake asked to rejoin from a position, until `ready` answers them.
  const asked = new WeakMap<ChatSocket, boolean[]>();
  const onReady = function (this: ChatSocket, event: string, ready: unknown) {
    if (event !== "ready") return;
    this.offAnyOutgoing(onReady);
    const since = asked.get(this);
    asked.delete(this);
    const rejoin = isRecord(ready) ? ready.rejoin : undefined;
    if (since === undefined || !isRecord(rejoin) || !Array.isArray(rejoin.rooms)) return;
    rejoin.rooms.forEach((reply: unknown, i: number) => {
      if (since[i] === true) countRecovery(reply);
    });
  };
  const onDisconnect = (reason: string) => metrics.disconnects.inc({ reason });

  io.on("connection", (socket) => {
    metrics.connects.inc({ transport: socket.conn.transport.name });
    socket.on("disconnect", onDisconnect);
    socket.use(timeAcks);
    const rooms = isRecord(socket.handshake.auth) ? socket.handshake.auth.rooms : undefined;
    if (Array.isArray(rooms) && rooms.some(hasSince)) {
      asked.set(socket, rooms.map(hasSince));
      socket.onAnyOutgoing(onReady);
    }
  });

  // The fan-out emits to local sockets only (io.local): each such emit of a
  // chat message passes through the namespace adapter's broadcast, which is
  // wrapped here to count them, with no hook in the fan-out's code. (Messages
  // that other instances relay through the Redis adapter take another path.)
  const adapter = io.of("/").adapter;
  const broadcast = adapter.broadcast.bind(adapter);
  adapter.broadcast = (packet: { data?: unknown }, opts: Parameters<typeof broadcast>[1]) => {
    const data = packet.data;
    if (opts.flags?.local === true && Array.isArray(data)) {
      const [event, payload] = data as [unknown, unknown];
      const count =
        event === "message"
          ? 1
          : event === "messages" && isRecord(payload) && Array.isArray(payload.messages)
            ? payload.messages.length
            : 0;
      if (count > 0) {
        let receivers = 0;
        for (const room of opts.rooms) receivers += adapter.rooms.get(room)?.size ?? 0;
        metrics.delivered.inc(count * receivers);
        if (event === "messages") {
          metrics.batches.inc();
          metrics.batched.inc(count);
        }
      }
    }
    broadcast(packet, opts);
  };
}
