import { createServer, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { monitorEventLoopDelay } from "node:perf_hooks";
import type { Message } from "../protocol/index.ts";
import { createSessions, sessionRoom } from "./auth/session.ts";
import type { Config } from "./config.ts";
import { createApp } from "./http/app.ts";
import type { Logger } from "./logger.ts";
import { createInstanceMetrics } from "./metrics/index.ts";
import { countBusMessage } from "./metrics/registry.ts";
import { messageFanout } from "./realtime/message-fanout.ts";
import { PresenceTracker } from "./realtime/presence-tracker.ts";
import { startSessionWatch } from "./realtime/session-watch.ts";
import { logSockets } from "./realtime/socket-log.ts";
import { acceptChat, createSocketServer } from "./realtime/socket-server.ts";
import type { ChatServer } from "./realtime/types.ts";
import { AccountStore } from "./store/account-store.ts";
import { redisMessageBus } from "./store/bus/redis-bus.ts";
import { connectRedis } from "./store/connections/index.ts";
import { Keys } from "./store/keys.ts";
import { MessageStore } from "./store/message-store.ts";
import { PresenceStore } from "./store/presence-store.ts";
import { RateLimitStore } from "./store/rate-limit-store.ts";
import { ReplicaAck } from "./store/replica-ack.ts";
import { SessionStore } from "./store/session-store.ts";
import { StorageWatch } from "./store/storage-watch.ts";

/** How long one shutdown step (other than the drain) may take. */
const SHUTDOWN_STEP_MS = 3000;

export interface Instance {
  readonly id: string;
  readonly port: number;
  readonly io: ChatServer;
  readonly http: HttpServer;
  /** Stops taking connections, asks clients to move, waits for them (bounded), then closes. */
  close(options?: { drain?: boolean }): Promise<void>;
}

/** Starts one chat instance: HTTP API, pages and Socket.IO, with all state in Redis. */
export async function startInstance(config: Config, log: Logger): Promise<Instance> {
  const keys = new Keys(config.keyPrefix);
  const redis = await connectRedis(config.redis, log);
  const metrics = createInstanceMetrics(redis, { token: config.metricsToken });
  const sessionStore = new SessionStore(redis, keys, config.sessionTtlSeconds);
  const secret = await sessionStore.sharedSecret(config.sessionSecret);
  const sessionOptions = {
    secret,
    cookieName: config.sessionCookieName,
    ttlSeconds: config.sessionTtlSeconds,
  };
  const sessions = createSessions(sessionStore, sessionOptions);
  const storage = new StorageWatch(log);
  const send = storage.watch(redis.send);
  const accounts = new AccountStore(send, keys);
  const rateLimits = new RateLimitStore(send, keys);
  const presenceStore = new PresenceStore(
    send,
    keys,
    config.instanceId,
    config.presenceHeartbeatMs * 3,
  );

  let draining = false;
  let stored = 0;
  const loopLag = eventLoopLag();
  let io: ChatServer | undefined;
  const app = createApp({
    log,
    instanceId: config.instanceId,
    sessionCookieName: config.sessionCookieName,
    session: sessions.middleware,
    accounts,
    redisReady: redis.isReady,
    metrics: metrics.http,
    health: () => ({
      sockets: io?.engine.clientsCount ?? 0,
      messages: stored,
      draining,
      storage: storage.state(),
      eventLoopLagMs: loopLag.read(),
      // memoryUsage() walks no heap: cheap enough for a poll every second.
      ...memoryFigures(),
    }),
    endSessionSockets: (sessionId) => {
      const room = sessionRoom(sessionId);
      io?.to(room).emit("bye", { reason: "logout" });
      io?.in(room).disconnectSockets(true);
    },
    bodyLimit: config.httpBodyLimit,
    allowedOrigins: config.allowedOrigins,
    trustProxy: config.trustProxy,
    authLimits: {
      store: rateLimits,
      attemptsPerMinute: config.authAttemptsPerMinute,
      failuresBeforeLock: config.authFailuresBeforeLock,
    },
  });
  const http = createServer(app);

  io = createSocketServer(http, {
    keys,
    redis,
    readSession: (headers) => sessions.readForSocket(headers),
    allowedOrigins: config.allowedOrigins,
    maxSocketsPerSession: config.maxSocketsPerSession,
    maxHttpBufferSize: config.maxHttpBufferSize,
    isDraining: () => draining,
  });
  metrics.watch(io);
  logSockets(io, log);
  const tracker = new PresenceTracker(presenceStore, io, log, {
    heartbeatMs: config.presenceHeartbeatMs,
    windowMs: config.presenceWindowMs,
    countOnlyAbove: config.presenceCountOnlyAbove,
    countIntervalMs: config.presenceCountIntervalMs,
  });
  // The fan-out reads what a resubscription missed from the history (`messages`, made below).
  const fanout = messageFanout(io, (room, after, count) => messages.after(room, after, count), log);
  // Counted here, where the bus hands a message over: what a resubscription's
  // catch-up reads from the history is not something the bus delivered.
  const fromBus = (message: Message) => {
    countBusMessage();
    fanout.deliver(message);
  };
  const bus = redisMessageBus(redis.pubsub, keys, fromBus, log, fanout.resubscribed);
  const replicaAck =
    config.replicaAck === "on" || (config.replicaAck === "auto" && (await redis.hasReplicas()));
  log.info({ redis: redis.mode, replicaAck }, "redis topology");
  const messages = new MessageStore(
    send,
    keys,
    config.historySize,
    bus,
    replicaAck
      ? new ReplicaAck(send, redis.connectionMark, {
          timeoutMs: config.replicaAckTimeoutMs,
          required: config.replicaAck === "on",
        })
      : undefined,
  );
  acceptChat(io, {
    log,
    instanceId: config.instanceId,
    messages,
    presence: tracker,
    bus,
    fanout,
    redisReady: redis.isReady,
    rateLimits,
    messageRatePerSecond: config.messageRatePerSecond,
    messageBurst: config.messageBurst,
    maxMessageLength: config.maxMessageLength,
    maxRoomsPerSocket: config.maxRoomsPerSocket,
    typingIntervalMs: config.typingIntervalMs,
    onStored: () => {
      stored += 1;
      storage.stored();
      metrics.messageStored();
    },
  });
  const stopSessionWatch = startSessionWatch(io, sessionStore, log, config.sessionCheckMs);
  tracker.start();

  await new Promise<void>((resolve, reject) => {
    http.once("error", reject);
    http.listen(config.port, config.host, () => resolve());
  });
  const port = (http.address() as AddressInfo).port;
  log.info({ port }, "listening");

  const chat = io;
  let closing: Promise<void> | undefined;
  const close = async (options: { drain?: boolean } = {}) => {
    draining = true;
    // Every step has a deadline: with Redis unreachable, a step's commands
    // would wait in node-redis's offline queue for ever and the process would
    // never exit. What a cut step leaves behind expires by itself (presence
    // entries have a TTL, and the others reap them).
    const step = async (name: string, run: () => unknown, deadlineMs = SHUTDOWN_STEP_MS) => {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<"late">((resolve) => {
        timer = setTimeout(() => resolve("late"), deadlineMs);
      });
      try {
        const outcome = await Promise.race([Promise.resolve().then(run), late]);
        if (outcome === "late") log.warn({ step: name }, "shutdown step cut at its deadline");
      } catch (error) {
        log.warn({ err: error, step: name }, "shutdown step failed");
      } finally {
        clearTimeout(timer);
      }
    };
    await step("session watch", stopSessionWatch);
    if (options.drain === true) {
      await step(
        "drain",
        () => drainSockets(chat, config.drainTimeoutMs, log),
        config.drainTimeoutMs + SHUTDOWN_STEP_MS,
      );
    }
    await step("presence", () => tracker.stop());
    await step("sockets", () => chat.close());
    await step("message bus", () => bus.close());
    await step("redis", () => redis.close());
    metrics.close();
    loopLag.stop();
    log.info("closed");
  };

  return {
    id: config.instanceId,
    port,
    io: chat,
    http,
    close(options) {
      closing ??= close(options);
      return closing;
    },
  };
}

/** Asks every local client to reconnect elsewhere and waits until they have gone. */
async function drainSockets(io: ChatServer, timeoutMs: number, log: Logger): Promise<void> {
  const before = io.engine.clientsCount;
  io.local.emit("bye", { reason: "draining" });
  const deadline = Date.now() + timeoutMs;
  while (io.engine.clientsCount > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  log.info({ before, left: io.engine.clientsCount }, "drained");
}

function memoryFigures(): { rssBytes: number; heapUsedBytes: number } {
  const { rss, heapUsed } = process.memoryUsage();
  return { rssBytes: rss, heapUsedBytes: heapUsed };
}

/**
 * The event loop's delay p99 (ms, with the 10 ms sampling tick included, as
 * the metrics endpoint's figure has it). A reading at least a second after the
 * previous one starts a new window; a reading sooner gets the previous value,
 * so that several pollers of /healthz (the supervisor, a load balancer) do not
 * shrink each other's window to nothing.
 */
function eventLoopLag(windowMs = 1000): { read: () => number; stop: () => void } {
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  let windowStart = Date.now();
  let last = 0;
  return {
    read() {
      const now = Date.now();
      if (now - windowStart >= windowMs) {
        last = histogram.count === 0 ? 0 : Math.round(histogram.percentile(99) / 1e4) / 100;
        histogram.reset();
        windowStart = now;
      }
      return last;
    },
    stop: () => histogram.disable(),
  };
}
