import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

/**
 * Messages this process took from the message bus. A plain number that the
 * instance bumps where the bus hands a message to the fan-out (no metrics
 * object to pass through the bus's seam) and the counter reads when scraped; an instance is a process of its
 * own, so the process's count is the instance's.
 */
let busMessagesReceived = 0;

/** One message arrived from the bus (a room channel this instance subscribes to). */
export function countBusMessage(): void {
  busMessagesReceived += 1;
}

/**
 * Every metric an instance exports, in one registry of its own (not
 * prom-client's global one), named the Prometheus way: `switchboard_`, the
 * unit in the name, `_total` on counters. Node's own figures (event-loop
 * lag, heap, RSS, GC, CPU) come from prom-client's default metrics under
 * the same prefix.
 */
export function createRegistry() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "switchboard_" });
  const registers = [registry];
  let countSockets: (() => Map<string, number>) | undefined;
  return {
    registry,
    /** Gives the function that counts the live sockets by transport, called at each scrape. */
    countSocketsWith(count: () => Map<string, number>) {
      countSockets = count;
    },
    sockets: new Gauge({
      name: "switchboard_sockets",
      help: "Live Socket.IO connections on this instance, by transport",
      labelNames: ["transport"] as const,
      registers,
      // Counted when scraped: nothing to keep up to date between scrapes.
      collect() {
        const counts = countSockets?.() ?? new Map<string, number>();
        this.reset();
        for (const transport of new Set(["polling", "websocket", ...counts.keys()])) {
          this.set({ transport }, counts.get(transport) ?? 0);
        }
      },
    }),
    connects: new Counter({
      name: "switchboard_socket_connects_total",
      help: "Socket.IO connections accepted (logged in), by transport at the time",
      labelNames: ["transport"] as const,
      registers,
    }),
    disconnects: new Counter({
      name: "switchboard_socket_disconnects_total",
      help: "Socket.IO disconnections, by Socket.IO's reason",
      labelNames: ["reason"] as const,
      registers,
    }),
    stored: new Counter({
      name: "switchboard_messages_stored_total",
      help: "Chat messages this instance stored (a resend of a stored clientId is not counted)",
      registers,
    }),
    delivered: new Counter({
      name: "switchboard_messages_delivered_total",
      help: "Chat messages sent to this instance's sockets, one per receiving socket",
      registers,
    }),
    busReceived: new Counter({
      name: "switchboard_bus_messages_received_total",
      help: "Chat messages this instance received from the message bus (once per instance and message, whatever the receivers)",
      registers,
      // Read when scraped, from the count the fan-out keeps.
      collect() {
        this.reset();
        this.inc(busMessagesReceived);
      },
    }),
    batched: new Counter({
      name: "switchboard_messages_batched_total",
      help: "Chat messages that went out in a batch frame (several messages of a room at once)",
      registers,
    }),
    batches: new Counter({
      name: "switchboard_message_batches_total",
      help: "Batch frames emitted to a room",
      registers,
    }),
    sendAck: new Histogram({
      name: "switchboard_send_ack_duration_seconds",
      help: "From a message:send reaching the instance to its acknowledgement, by outcome (ok or the error code)",
      labelNames: ["outcome"] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    recoveries: new Counter({
      name: "switchboard_recoveries_total",
      help: "Rejoins from a known position: recovered (the gap was replayed) or fell_back (recovered: false, the client reloads)",
      labelNames: ["outcome"] as const,
      registers,
    }),
    rateLimited: new Counter({
      name: "switchboard_rate_limited_total",
      help: "Requests refused by a rate limit, by kind (message: chat sends; auth: logins and registrations)",
      labelNames: ["kind"] as const,
      registers,
    }),
    redisCommandErrors: new Counter({
      name: "switchboard_redis_command_errors_total",
      help: "Redis commands of the chat stores that failed, by command",
      labelNames: ["command"] as const,
      registers,
    }),
    redisConnectionErrors: new Counter({
      name: "switchboard_redis_connection_errors_total",
      help: "Errors on the Redis connections, by connection",
      labelNames: ["connection"] as const,
      registers,
    }),
    redisReconnects: new Counter({
      name: "switchboard_redis_reconnects_total",
      help: "Reconnection attempts of the Redis connections, by connection",
      labelNames: ["connection"] as const,
      registers,
    }),
    redisPing: new Histogram({
      name: "switchboard_redis_ping_duration_seconds",
      help: "Round trip of a PING on the command connection, every 5 s while Redis is reachable",
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    }),
  };
}

export type Metrics = ReturnType<typeof createRegistry>;
