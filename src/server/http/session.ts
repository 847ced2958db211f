import { createHash, randomBytes } from "node:crypto";
import { RedisStore } from "connect-redis";
import type { RequestHandler } from "express";
import session from "express-session";
import type { Keys } from "../store/keys.ts";
import type { RedisConnection, RedisConnections } from "../store/redis-connection.ts";

declare module "express-session" {
  interface SessionData {
    user: { name: string };
  }
}

export interface SessionOptions {
  secret: string;
  cookieName: string;
  ttlSeconds: number;
}

/**
 * express-session with its data in Redis, so that every instance knows every
 * login. The cookie is named JSESSIONID by default because that is the name
 * Cloud Foundry's router keys sticky sessions on.
 */
export function createSessionMiddleware(
  client: RedisConnection,
  keys: Keys,
  options: SessionOptions,
  rolling: boolean,
): RequestHandler {
  const store = new RedisStore({ client, prefix: keys.sessionPrefix, ttl: options.ttlSeconds });
  return session({
    store,
    name: options.cookieName,
    secret: options.secret,
    resave: false,
    saveUninitialized: false,
    // With rolling, every response refreshes the cookie, so a session expires only after
    // SESSION_TTL_SECONDS idle. The Socket.IO handshake does not roll: its response may
    // not know whether the user came over HTTPS, and must not rewrite the cookie's flags.
    rolling,
    cookie: {
      httpOnly: true,
      sameSite: "lax",
      // Secure when the request came over HTTPS (directly or per X-Forwarded-Proto from a trusted proxy).
      secure: "auto",
      maxAge: options.ttlSeconds * 1000,
      path: "/",
    },
  });
}

/**
 * The secret that signs session cookies. Instances must agree on it; when none
 * is configured (development), the first instance to start stores a random one
 * in Redis and the others read it.
 */
export async function resolveSessionSecret(
  redis: RedisConnections,
  keys: Keys,
  configured: string | undefined,
): Promise<string> {
  if (configured !== undefined) return configured;
  const key = keys.sessionSecret;
  await redis.send(["SET", key, randomBytes(32).toString("base64url"), "NX"], key);
  const secret = await redis.send<string | null>(["GET", key], key);
  if (secret === null) throw new Error("the session secret vanished from Redis");
  return secret;
}

/**
 * The Socket.IO room that holds every socket of one login session. A digest,
 * so that the session id itself never travels through the adapter or logs.
 */
export function sessionRoom(sessionId: string): string {
  return `session:${createHash("sha256").update(sessionId).digest("base64url").slice(0, 22)}`;
}
