import { randomBytes, randomUUID, type ScryptOptions, scrypt, timingSafeEqual } from "node:crypto";
import { createServer } from "node:http";
import { createAdapter } from "@socket.io/redis-adapter";
import { RedisStore } from "connect-redis";
import express, { type Request, type Response } from "express";
import session from "express-session";
import { createClient } from "redis";
import { Server } from "socket.io";
import { errorBody, NAME_PATTERN, ROOM_PATTERN, readReferenceEnv } from "./reference-env.ts";

/**
 * The "plain" reference: what someone builds from the Socket.IO documentation
 * ("Using multiple nodes", "How to use with express-session") on the same
 * stack: Express 5, express-session in Redis through connect-redis, Socket.IO
 * 4.8 with @socket.io/redis-adapter, and the same event names as Switchboard.
 * It has no history, no offsets, no deduplication, no presence and no limits:
 * a message is `io.to(room).emit`ted once and whoever is not connected at that
 * moment never sees it.
 *
 * Passwords are hashed with scrypt with the same parameters as Switchboard,
 * so that logging in costs the same on both.
 */

declare module "express-session" {
  interface SessionData {
    user: { name: string };
  }
}

const env = readReferenceEnv("plain");
const SCRYPT: ScryptOptions = { N: 16384, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };

function derive(password: string, salt: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password, salt, 64, SCRYPT, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

interface Account {
  name: string;
  salt: string;
  hash: string;
}

interface ChatMessage {
  id: string;
  room: string;
  user: string;
  text: string;
  ts: number;
  clientId: string;
}

const redis = createClient({ url: env.redisUrl });
const pub = redis.duplicate();
const sub = redis.duplicate();
for (const client of [redis, pub, sub]) client.on("error", () => {});
await Promise.all([redis.connect(), pub.connect(), sub.connect()]);

const sessionMiddleware = session({
  store: new RedisStore({ client: redis, prefix: "plain:sess:", ttl: env.sessionTtlSeconds }),
  name: env.sessionCookieName,
  secret: env.sessionSecret,
  resave: false,
  saveUninitialized: false,
  // Every response sets the cookie, so that a sticky router (Cloud Foundry's
  // JSESSIONID affinity) keeps the client on one instance.
  rolling: true,
  cookie: { httpOnly: true, sameSite: "lax", maxAge: env.sessionTtlSeconds * 1000 },
});

let messages = 0;
const app = express();
app.use(express.json());
app.use(sessionMiddleware);

function login(req: Request, res: Response, name: string, status: number): void {
  req.session.regenerate((error: unknown) => {
    if (error) {
      res.status(500).json(errorBody("internal", "session failed"));
      return;
    }
    req.session.user = { name };
    req.session.save(() => res.status(status).json({ user: { name } }));
  });
}

function credentials(req: Request): { username: string; password: string } | undefined {
  const body = req.body as { username?: unknown; password?: unknown } | undefined;
  const { username, password } = body ?? {};
  if (typeof username !== "string" || !NAME_PATTERN.test(username)) return undefined;
  if (typeof password !== "string" || password.length < 8 || password.length > 128)
    return undefined;
  return { username, password };
}

app.post("/api/register", async (req, res) => {
  const input = credentials(req);
  if (input === undefined) {
    res.status(400).json(errorBody("invalid_input", "username or password"));
    return;
  }
  const salt = randomBytes(16);
  const hash = await derive(input.password, salt);
  const account: Account = {
    name: input.username,
    salt: salt.toString("base64"),
    hash: hash.toString("base64"),
  };
  const created = await redis.set(
    `plain:user:${input.username.toLowerCase()}`,
    JSON.stringify(account),
    { condition: "NX" },
  );
  if (created === null) {
    res.status(409).json(errorBody("username_taken", "the name is taken"));
    return;
  }
  login(req, res, input.username, 201);
});

app.post("/api/login", async (req, res) => {
  const input = credentials(req);
  const stored =
    input === undefined ? null : await redis.get(`plain:user:${input.username.toLowerCase()}`);
  if (input === undefined || stored === null) {
    res.status(401).json(errorBody("invalid_credentials", "wrong username or password"));
    return;
  }
  const account = JSON.parse(stored) as Account;
  const expected = Buffer.from(account.hash, "base64");
  const actual = await derive(input.password, Buffer.from(account.salt, "base64"));
  if (!timingSafeEqual(expected, actual)) {
    res.status(401).json(errorBody("invalid_credentials", "wrong username or password"));
    return;
  }
  login(req, res, account.name, 200);
});

app.get("/api/session", (req, res) => {
  const user = req.session.user;
  if (user === undefined) {
    res.status(401).json(errorBody("unauthorized", "not logged in"));
    return;
  }
  res.json({ user, instance: env.instanceId });
});

const httpServer = createServer(app);
const io = new Server(httpServer, {
  serveClient: false,
  adapter: createAdapter(pub, sub, { key: "plain:sio" }),
});

// /readyz too: HAProxy's health check asks it (npm run bench -- --router haproxy).
app.get(["/healthz", "/readyz"], (_req, res) => {
  res.json({
    status: "ok",
    instance: env.instanceId,
    sockets: io.engine.clientsCount,
    messages,
    draining: false,
  });
});

// The documented way to share the Express session with Socket.IO.
io.engine.use(sessionMiddleware);
io.use((socket, next) => {
  const user = (socket.request as Request).session?.user;
  if (user === undefined) next(new Error("unauthorized"));
  else next();
});

type Ack = (reply: unknown) => void;

io.on("connection", (socket) => {
  const user = (socket.request as Request).session.user?.name ?? "";
  socket.on("room:join", (payload: { room?: unknown }, ack?: Ack) => {
    const room = payload?.room;
    if (typeof room !== "string" || !ROOM_PATTERN.test(room)) {
      ack?.({ ok: false, error: { code: "invalid_input", message: "room" } });
      return;
    }
    void socket.join(room);
    ack?.({ ok: true, room });
  });
  socket.on("message:send", (payload: Partial<ChatMessage>, ack?: Ack) => {
    const { room, text, clientId } = payload ?? {};
    if (typeof room !== "string" || typeof text !== "string" || typeof clientId !== "string") {
      ack?.({ ok: false, error: { code: "invalid_input", message: "room, text, clientId" } });
      return;
    }
    if (!socket.rooms.has(room)) {
      ack?.({ ok: false, error: { code: "not_in_room", message: "join the room first" } });
      return;
    }
    const message: ChatMessage = { id: randomUUID(), room, user, text, ts: Date.now(), clientId };
    io.to(room).emit("message", message);
    messages += 1;
    ack?.({ ok: true, message });
  });
});

await new Promise<void>((resolve) => httpServer.listen(env.port, env.host, resolve));

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  io.close();
  for (const client of [sub, pub, redis]) client.destroy();
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
