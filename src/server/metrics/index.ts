import type { RequestHandler } from "express";
import type { ChatServer } from "../realtime/types.ts";
import type { RedisConnections } from "../store/redis-connection.ts";
import { metricsHandler, observeApi } from "./http.ts";
import { instrumentRedis } from "./redis-metrics.ts";
import { createRegistry } from "./registry.ts";
import { watchSockets } from "./socket-metrics.ts";

/** The HTTP side of the metrics, for createApp. */
export interface MetricsRoutes {
  /** Mounted on /api: counts rate-limit refusals. */
  observeApi: RequestHandler;
  /** GET /metrics in Prometheus' text format, with its access rule. */
  handler: RequestHandler;
}

export interface InstanceMetrics {
  http: MetricsRoutes;
  /** Watches the Socket.IO server; call before the chat's connection listener is added. */
  watch(io: ChatServer): void;
  /** A message was stored (not a resend of a stored clientId). */
  messageStored(): void;
  close(): void;
}

/**
 * Prometheus metrics of one instance. Instruments the Redis connections at
 * once: call it right after connecting, before anything takes `redis.send`.
 */
export function createInstanceMetrics(
  redis: RedisConnections,
  options: { token: string | undefined },
): InstanceMetrics {
  const metrics = createRegistry();
  const stopRedis = instrumentRedis(redis, metrics);
  return {
    http: {
      observeApi: observeApi(metrics),
      handler: metricsHandler(metrics.registry, options.token),
    },
    watch: (io) => watchSockets(io, metrics),
    messageStored: () => metrics.stored.inc(),
    close: () => {
      stopRedis();
      metrics.registry.clear();
    },
  };
}
