import type { RedisConnections } from "../store/redis-connection.ts";
import type { Metrics } from "./registry.ts";

const PING_EVERY_MS = 5000;

/**
 * Counts the Redis errors and reconnects of an instance, and times a PING
 * every 5 s. `send` is wrapped in place, so this must run before the stores
 * take it (right after connecting). Returns the function that stops the PINGs.
 */
export function instrumentRedis(redis: RedisConnections, metrics: Metrics): () => void {
  const send = redis.send;
  redis.send = async <T>(args: string[], firstKey: string): Promise<T> => {
    try {
      return await send<T>(args, firstKey);
    } catch (error) {
      metrics.redisCommandErrors.inc({ command: (args[0] ?? "?").toUpperCase() });
      throw error;
    }
  };
  for (const [name, connection] of redis.watched) {
    connection.on("error", () => metrics.redisConnectionErrors.inc({ connection: name }));
    connection.on("reconnecting", () => metrics.redisReconnects.inc({ connection: name }));
  }
  const ping = () => {
    if (!redis.isReady()) return;
    const end = metrics.redisPing.startTimer();
    send(["PING"], "ping").then(
      () => end(),
      () => metrics.redisCommandErrors.inc({ command: "PING" }),
    );
  };
  ping();
  const timer = setInterval(ping, PING_EVERY_MS);
  timer.unref();
  return () => clearInterval(timer);
}
