import { createHash } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { unsign } from "cookie-signature";
import type { RequestHandler } from "express";
import session from "express-session";
import type { SessionStore } from "../store/session-store.ts";

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

/** The logged-in user a cookie stands for, as the Socket.IO handshake needs it. */
export interface SocketSession {
  sessionId: string;
  user: string;
}

export interface Sessions {
  /** express-session for the HTTP API: login, logout, rolling expiry. */
  middleware: RequestHandler;
  /**
   * Reads the session of a Socket.IO handshake: the signed cookie, then the
   * store. Lighter than express-session (no response hooks, no Session object
   * kept for the socket's life), and it never rewrites the cookie.
   */
  readForSocket(headers: IncomingHttpHeaders): Promise<SocketSession | undefined>;
}

/**
 * Sessions with their data in Redis, so that every instance knows every
 * login. The cookie is named JSESSIONID by default because that is the name
 * Cloud Foundry's router keys sticky sessions on.
 */
export function createSessions(sessions: SessionStore, options: SessionOptions): Sessions {
  const middleware = session({
    store: sessions.store,
    name: options.cookieName,
    secret: options.secret,
    resave: false,
    saveUninitialized: false,
    // Every response refreshes the cookie, so a session expires only after SESSION_TTL_SECONDS idle.
    rolling: true,
    cookie: {
      httpOnly: true,
      sameSite: "lax",
      // Secure when the request came over HTTPS (directly or per X-Forwarded-Proto from a trusted proxy).
      secure: "auto",
      maxAge: options.ttlSeconds * 1000,
      path: "/",
    },
  });
  return {
    middleware,
    async readForSocket(headers) {
      const value = cookieValue(headers.cookie, options.cookieName);
      // express-session's format: "s:" + id + "." + HMAC; anything else is not ours.
      if (value === undefined || !value.startsWith("s:")) return undefined;
      const sessionId = unsign(value.slice(2), options.secret);
      if (sessionId === false) return undefined;
      const user = (await sessions.read(sessionId))?.user?.name;
      return user === undefined ? undefined : { sessionId, user };
    },
  };
}

/** One cookie's decoded value from a Cookie header. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    try {
      return decodeURIComponent(part.slice(eq + 1).trim());
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/**
 * The Socket.IO room that holds every socket of one login session. A digest,
 * so that the session id itself never travels through the adapter or logs.
 */
export function sessionRoom(sessionId: string): string {
  return `session:${createHash("sha256").update(sessionId).digest("base64url").slice(0, 22)}`;
}
