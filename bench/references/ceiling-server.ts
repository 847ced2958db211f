import { randomBytes, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createClient } from "redis";
import { type WebSocket, WebSocketServer } from "ws";
import { errorBody, NAME_PATTERN, ROOM_PATTERN, readReferenceEnv } from "./reference-env.ts";

/**
 * The "ceiling" reference: the least a multi-instance chat can do on this
 * machine. `ws` WebSockets and one Redis pub/sub channel, no framework: a
 * send is PUBLISHed once, each instance parses it once, frames it once and
 * writes the same buffer to its local sockets in the room. Frames are JSON:
 * `{e, d, id?}` from the client, `{e:"ack", id, d}` and `{e:"message", d}`
 * from the server, with the same event names and payloads as Switchboard.
 *
 * A login is a random token kept in Redis under the session cookie's name,
 * checked once on the WebSocket upgrade. There are no accounts and no
 * password hashing: any name with any 8+ character password logs in.
 */

const env = readReferenceEnv("ceiling");
const CHANNEL = "ceiling:messages";
const SESSION_PREFIX = "ceiling:sess:";

const redis = createClient({ url: env.redisUrl });
const sub = redis.duplicate();
for (const client of [redis, sub]) client.on("error", () => {});
await Promise.all([redis.connect(), sub.connect()]);

const rooms = new Map<string, Set<WebSocket>>();
let messages = 0;
let sockets = 0;

function cookieToken(req: IncomingMessage): string | undefined {
  for (const part of (req.headers.cookie ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === env.sessionCookieName) {
      return part.slice(eq + 1).trim();
    }
  }
  return undefined;
}

async function sessionUser(req: IncomingMessage): Promise<string | null> {
  const token = cookieToken(req);
  if (token === undefined || !/^[A-Za-z0-9_-]{16,64}$/.test(token)) return null;
  return redis.get(SESSION_PREFIX + token);
}

function json(res: ServerResponse, status: number, body: unknown, cookie?: string): void {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (cookie !== undefined) {
    headers["set-cookie"] =
      `${env.sessionCookieName}=${cookie}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${env.sessionTtlSeconds}`;
  }
  res.writeHead(status, headers).end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > 16_384) return undefined;
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    return undefined;
  }
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? "/").split("?")[0];
  // /readyz too: HAProxy's health check asks it (npm run bench -- --router haproxy).
  if (req.method === "GET" && (path === "/healthz" || path === "/readyz")) {
    json(res, 200, { status: "ok", instance: env.instanceId, sockets, messages, draining: false });
    return;
  }
  if (req.method === "POST" && (path === "/api/login" || path === "/api/register")) {
    const body = (await readBody(req)) as { username?: unknown; password?: unknown } | undefined;
    const name = body?.username;
    const password = body?.password;
    if (typeof name !== "string" || !NAME_PATTERN.test(name) || typeof password !== "string") {
      json(res, 400, errorBody("invalid_input", "username or password"));
      return;
    }
    if (password.length < 8) {
      json(res, 401, errorBody("invalid_credentials", "wrong username or password"));
      return;
    }
    const token = randomBytes(24).toString("base64url");
    await redis.set(SESSION_PREFIX + token, name, {
      expiration: { type: "EX", value: env.sessionTtlSeconds },
    });
    json(res, path === "/api/register" ? 201 : 200, { user: { name } }, token);
    return;
  }
  if (req.method === "GET" && path === "/api/session") {
    const user = await sessionUser(req);
    if (user === null) {
      json(res, 401, errorBody("unauthorized", "not logged in"));
      return;
    }
    // Set the cookie again, as a rolling session does, so the sticky router keeps affinity.
    json(res, 200, { user: { name: user }, instance: env.instanceId }, cookieToken(req));
    return;
  }
  json(res, 404, errorBody("not_found", "no such endpoint"));
}

const server = createServer((req, res) => {
  handle(req, res).catch(() => {
    if (!res.headersSent) json(res, 503, errorBody("unavailable", "try again"));
  });
});
const wss = new WebSocketServer({ noServer: true, maxPayload: 32_768, perMessageDeflate: false });
wss.on("headers", (headers) => headers.push(`X-Instance-Id: ${env.instanceId}`));

server.on("upgrade", (req, socket, head) => {
  sessionUser(req).then(
    (user) => {
      if (user === null || !(req.url ?? "").startsWith("/ws")) {
        socket.end("HTTP/1.1 401 Unauthorized\r\ncontent-length: 0\r\n\r\n");
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => accept(ws, user));
    },
    () => socket.destroy(),
  );
});

interface Frame {
  e?: unknown;
  d?: { room?: unknown; text?: unknown; clientId?: unknown };
  id?: unknown;
}

function accept(ws: WebSocket, user: string): void {
  sockets += 1;
  const joined = new Set<string>();
  const ack = (id: unknown, d: unknown) => ws.send(JSON.stringify({ e: "ack", id, d }));
  ws.on("message", (data) => {
    let frame: Frame;
    try {
      frame = JSON.parse(String(data)) as Frame;
    } catch {
      return;
    }
    const room = frame.d?.room;
    if (typeof room !== "string" || !ROOM_PATTERN.test(room)) {
      ack(frame.id, { ok: false, error: { code: "invalid_input", message: "room" } });
      return;
    }
    if (frame.e === "room:join") {
      let members = rooms.get(room);
      if (members === undefined) {
        members = new Set();
        rooms.set(room, members);
      }
      members.add(ws);
      joined.add(room);
      ack(frame.id, { ok: true, room });
    } else if (frame.e === "message:send") {
      const { text, clientId } = frame.d ?? {};
      if (!joined.has(room) || typeof text !== "string" || typeof clientId !== "string") {
        ack(frame.id, { ok: false, error: { code: "invalid_input", message: "send" } });
        return;
      }
      const message = { id: randomUUID(), room, user, text, ts: Date.now(), clientId };
      redis.publish(CHANNEL, JSON.stringify(message)).then(
        () => {
          messages += 1;
          ack(frame.id, { ok: true, message });
        },
        () => ack(frame.id, { ok: false, error: { code: "unavailable", message: "redis" } }),
      );
    }
  });
  ws.on("close", () => {
    sockets -= 1;
    for (const room of joined) {
      const members = rooms.get(room);
      members?.delete(ws);
      if (members?.size === 0) rooms.delete(room);
    }
  });
}

await sub.subscribe(CHANNEL, (json) => {
  const room = (JSON.parse(json) as { room: string }).room;
  const members = rooms.get(room);
  if (members === undefined) return;
  // Framed once: every socket gets the same buffer.
  const frame = Buffer.from(`{"e":"message","d":${json}}`);
  for (const ws of members) ws.send(frame, { binary: false });
});

await new Promise<void>((resolve) => server.listen(env.port, env.host, resolve));

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  for (const ws of wss.clients) ws.terminate();
  server.close();
  for (const client of [sub, redis]) client.destroy();
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
