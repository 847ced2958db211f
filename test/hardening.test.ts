import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { createClient } from "redis";
import { CookieJar, HttpApi } from "../src/client/core/index.ts";
import type { JoinResult, Message, Result } from "../src/protocol/index.ts";
import { twoInstances } from "./helpers/fixtures.ts";
import {
  onMessages,
  PASSWORD,
  type RawSocket,
  rawSocket,
  socketReady,
  uniqueName,
} from "./helpers/users.ts";

/** Two instances with small limits, so that each limit can be reached quickly. */
const sockets: RawSocket[] = [];
let addressCounter = 1;

/** Each test speaks from its own client address (the instances trust loopback proxies). */
function newAddress(): string {
  addressCounter += 1;
  return `198.51.100.${addressCounter}`;
}

const instances = twoInstances(
  {
    MESSAGE_RATE_PER_SECOND: "2",
    MESSAGE_BURST: "3",
    MAX_ROOMS_PER_SOCKET: "3",
    MAX_SOCKETS_PER_SESSION: "2",
    HTTP_BODY_LIMIT: "1024",
    MAX_HTTP_BUFFER_SIZE: "4096",
    AUTH_ATTEMPTS_PER_MINUTE: "5",
    AUTH_FAILURES_BEFORE_LOCK: "3",
    SESSION_CHECK_MS: "200",
    TYPING_INTERVAL_MS: "1000",
  },
  { ids: ["hard-a", "hard-b"] },
);

after(() => {
  for (const socket of sockets) socket.disconnect();
});

/** A registered user whose requests come from an address of its own. */
async function user(baseUrl = instances.a.url) {
  const jar = new CookieJar();
  jar.set("__addr", newAddress());
  const name = uniqueName();
  const res = await post(baseUrl, "/api/register", { username: name, password: PASSWORD }, { jar });
  assert.equal(res.status, 201);
  return { name, jar, http: new HttpApi(baseUrl, jar) };
}

/** A POST as a browser page would send it, from `jar`'s address when it has one. */
async function post(
  baseUrl: string,
  path: string,
  body: unknown,
  options: { jar?: CookieJar; origin?: string; address?: string; raw?: string } = {},
) {
  const headers: Record<string, string> = {
    "content-type": "application/json",
    origin: options.origin ?? new URL(baseUrl).origin,
    "x-forwarded-for": options.address ?? options.jar?.get("__addr") ?? newAddress(),
  };
  const cookie = options.jar?.header();
  if (cookie !== undefined) headers.cookie = cookie;
  const res = await fetch(`${baseUrl}${path}`, {
    method: "POST",
    headers,
    body: options.raw ?? JSON.stringify(body),
  });
  options.jar?.store(res.headers.getSetCookie());
  const text = await res.text();
  const json = text === "" ? undefined : (JSON.parse(text) as { error?: { code: string } });
  return { status: res.status, json, headers: res.headers };
}

async function socketFor(baseUrl: string, jar: CookieJar, origin?: string) {
  const socket = rawSocket(
    baseUrl,
    jar,
    ["polling", "websocket"],
    origin === undefined ? {} : { origin },
  );
  sockets.push(socket);
  await socketReady(socket);
  return socket;
}

function join(socket: RawSocket, room: string) {
  return socket.emitWithAck("room:join", { room }) as Promise<Result<JoinResult>>;
}

function send(socket: RawSocket, room: string, text = "hi") {
  return socket.emitWithAck("message:send", {
    room,
    text,
    clientId: uniqueName("c"),
  }) as Promise<Result<{ message: Message }>>;
}

const codeOf = (result: Result<object>) => (result.ok ? "ok" : result.error.code);

describe("message rate per user, across instances", () => {
  test("a burst passes, the next message gets rate_limited on any instance, then the rate refills", async () => {
    const ann = await user();
    const room = uniqueName("r").toLowerCase();
    const sa = await socketFor(instances.a.url, ann.jar);
    const sb = await socketFor(instances.b.url, ann.jar);
    assert.ok((await join(sa, room)).ok);
    assert.ok((await join(sb, room)).ok);
    const burst = [await send(sa, room), await send(sb, room), await send(sa, room)];
    assert.deepEqual(burst.map(codeOf), ["ok", "ok", "ok"]);
    assert.equal(codeOf(await send(sb, room)), "rate_limited");
    assert.equal(codeOf(await send(sa, room)), "rate_limited");
    // 2 per second: a token is back within 500 ms.
    await new Promise((resolve) => setTimeout(resolve, 600));
    assert.equal(codeOf(await send(sb, room)), "ok");
  });
});

describe("limits per connection", () => {
  test("a socket may hold 3 rooms; the 4th gets too_many_rooms until it leaves one", async () => {
    const ann = await user();
    const socket = await socketFor(instances.a.url, ann.jar);
    for (const room of ["r1", "r2", "r3"]) assert.ok((await join(socket, room)).ok);
    assert.equal(codeOf(await join(socket, "r4")), "too_many_rooms");
    assert.ok(((await socket.emitWithAck("room:leave", { room: "r1" })) as Result<object>).ok);
    assert.ok((await join(socket, "r4")).ok);
  });

  test("a session may hold 2 sockets per instance; the 3rd is refused with too_many_sockets", async () => {
    const ann = await user();
    const first = await socketFor(instances.a.url, ann.jar);
    await socketFor(instances.a.url, ann.jar);
    await assert.rejects(socketFor(instances.a.url, ann.jar), { message: "too_many_sockets" });
    first.disconnect();
    // The slot is free again once the server saw the disconnect.
    for (let i = 0; ; i++) {
      try {
        await socketFor(instances.a.url, ann.jar);
        break;
      } catch (error) {
        if (i > 50) throw error;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
  });

  test("a Socket.IO packet over MAX_HTTP_BUFFER_SIZE closes that connection, and only it", async () => {
    const ann = await user();
    const room = uniqueName("r").toLowerCase();
    const big = await socketFor(instances.a.url, ann.jar);
    const other = await socketFor(instances.a.url, ann.jar);
    assert.ok((await join(big, room)).ok);
    const closed = new Promise<string>((resolve) => big.on("disconnect", resolve));
    // No ack: the server never answers, it closes the connection.
    (big as unknown as { emit(event: string, payload: unknown): void }).emit("message:send", {
      room,
      text: "x".repeat(10_000),
      clientId: "big",
    });
    assert.match(await closed, /transport (close|error)/);
    assert.ok((await join(other, room)).ok);
  });

  test("typing is relayed at most once per TYPING_INTERVAL_MS per socket", async () => {
    const ann = await user();
    const bob = await user(instances.b.url);
    const room = uniqueName("r").toLowerCase();
    const sa = await socketFor(instances.a.url, ann.jar);
    const sb = await socketFor(instances.b.url, bob.jar);
    assert.ok((await join(sa, room)).ok);
    assert.ok((await join(sb, room)).ok);
    let seen = 0;
    sb.on("typing", () => {
      seen += 1;
    });
    for (let i = 0; i < 10; i++) sa.emit("typing", { room });
    // A message sent after the typing events arrives after them (one channel, in order).
    const marker = new Promise<void>((resolve) =>
      onMessages(sb, (m) => m.text === "marker" && resolve()),
    );
    assert.ok((await send(sa, room, "marker")).ok);
    await marker;
    assert.equal(seen, 1);
  });

  test("an HTTP body over HTTP_BODY_LIMIT gets 413 payload_too_large", async () => {
    const res = await post(instances.a.url, "/api/login", undefined, {
      raw: JSON.stringify({ username: "x".repeat(2000), password: "y" }),
    });
    assert.equal(res.status, 413);
    assert.equal(res.json?.error?.code, "payload_too_large");
  });
});

describe("login and register attempts", () => {
  test("per address: the 6th attempt in a minute gets 429 with Retry-After, other addresses go on", async () => {
    const address = newAddress();
    for (let i = 0; i < 5; i++) {
      const res = await post(
        i % 2 === 0 ? instances.a.url : instances.b.url,
        "/api/login",
        { username: uniqueName(), password: "wrong password" },
        { address },
      );
      assert.equal(res.status, 401);
    }
    const limited = await post(
      instances.a.url,
      "/api/login",
      { username: uniqueName(), password: "x".repeat(8) },
      { address },
    );
    assert.equal(limited.status, 429);
    assert.equal(limited.json?.error?.code, "rate_limited");
    assert.ok(Number(limited.headers.get("retry-after")) >= 1);
    const elsewhere = await post(instances.b.url, "/api/login", {
      username: "nobody",
      password: "x".repeat(8),
    });
    assert.equal(elsewhere.status, 401);
  });

  test("per name: failures on A and B lock the name, even for the right password", async () => {
    const ann = await user();
    for (const target of [instances.a, instances.b, instances.a]) {
      const res = await post(target.url, "/api/login", {
        username: ann.name,
        password: "bad password",
      });
      assert.equal(res.status, 401);
    }
    const locked = await post(instances.b.url, "/api/login", {
      username: ann.name,
      password: PASSWORD,
    });
    assert.equal(locked.status, 429);
    assert.equal(locked.json?.error?.code, "rate_limited");
    assert.ok(Number(locked.headers.get("retry-after")) >= 1);
  });
});

describe("cross-site requests", () => {
  test("a state-changing request from another origin gets 403 forbidden_origin and changes nothing", async () => {
    const name = uniqueName();
    const res = await post(
      instances.a.url,
      "/api/register",
      { username: name, password: PASSWORD },
      { origin: "https://evil.example" },
    );
    assert.equal(res.status, 403);
    assert.equal(res.json?.error?.code, "forbidden_origin");
    const real = await post(instances.b.url, "/api/register", {
      username: name,
      password: PASSWORD,
    });
    assert.equal(real.status, 201, "the foreign request must not have created the account");
  });

  test("a handshake from another origin is refused with forbidden_origin", async () => {
    const ann = await user();
    await assert.rejects(socketFor(instances.a.url, ann.jar, "https://evil.example"), {
      message: "forbidden_origin",
    });
    await socketFor(instances.a.url, ann.jar, new URL(instances.a.url).origin);
  });
});

describe("session cookie", () => {
  test("the cookie is HttpOnly and SameSite=Lax, and Secure when the user came over HTTPS", async () => {
    const name = uniqueName();
    const plain = await post(instances.a.url, "/api/register", {
      username: name,
      password: PASSWORD,
    });
    const cookie = plain.headers.getSetCookie().find((c) => c.startsWith("JSESSIONID="));
    assert.ok(cookie);
    assert.match(cookie, /; HttpOnly/);
    assert.match(cookie, /; SameSite=Lax/);
    assert.doesNotMatch(cookie, /; Secure/);

    const res = await fetch(`${instances.a.url}/api/login`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-forwarded-proto": "https",
        "x-forwarded-for": newAddress(),
      },
      body: JSON.stringify({ username: name, password: PASSWORD }),
    });
    assert.equal(res.status, 200);
    const secure = res.headers.getSetCookie().find((c) => c.startsWith("JSESSIONID="));
    assert.match(secure ?? "", /; Secure/);
  });

  test("a tampered or forged cookie is logged out, over HTTP and for the socket", async () => {
    const ann = await user();
    const real = ann.jar.get("JSESSIONID") ?? "";
    const tampered = new CookieJar();
    tampered.set("JSESSIONID", `${real.slice(0, -3)}abc`);
    assert.equal(await new HttpApi(instances.a.url, tampered).session(), undefined);
    await assert.rejects(socketFor(instances.b.url, tampered), { message: "unauthorized" });
    const forged = new CookieJar();
    forged.set("JSESSIONID", "s%3Aattacker-chosen-id.invalidsignature");
    assert.equal(await new HttpApi(instances.a.url, forged).session(), undefined);
  });

  test("session fixation: an id planted before login is not the id after it", async () => {
    const jar = new CookieJar();
    jar.set("__addr", newAddress());
    const planted = "s%3Aplanted.invalid";
    jar.set("JSESSIONID", planted);
    const res = await post(
      instances.a.url,
      "/api/register",
      { username: uniqueName(), password: PASSWORD },
      { jar },
    );
    assert.equal(res.status, 201);
    assert.notEqual(jar.get("JSESSIONID"), planted);
  });

  test("after logout the old cookie is worthless: the session is gone from Redis", async () => {
    const ann = await user();
    const copy = new CookieJar();
    copy.set("JSESSIONID", ann.jar.get("JSESSIONID") ?? "");
    const res = await post(instances.a.url, "/api/logout", undefined, { jar: ann.jar, raw: "" });
    assert.equal(res.status, 204);
    assert.equal(await new HttpApi(instances.b.url, copy).session(), undefined);
  });

  test("a session that expires in Redis ends its sockets with bye expired", async () => {
    const ann = await user();
    const socket = await socketFor(instances.b.url, ann.jar);
    const bye = new Promise<string>((resolve) =>
      socket.on("bye", (event) => resolve(event.reason)),
    );
    const client = createClient({ url: instances.redis.url });
    await client.connect();
    try {
      const keys = await client.keys("sb:sess:*");
      const raw = decodeURIComponent(ann.jar.get("JSESSIONID") ?? "");
      const id = raw.slice(2, raw.lastIndexOf("."));
      assert.ok(keys.includes(`sb:sess:${id}`));
      await client.del(`sb:sess:${id}`);
    } finally {
      await client.close();
    }
    assert.equal(await bye, "expired");
    assert.equal(await new HttpApi(instances.a.url, ann.jar).session(), undefined);
  });
});

describe("protocol abuse", () => {
  test("an unknown event with an ack gets unknown_event; a name field cannot be smuggled in", async () => {
    const ann = await user();
    const room = uniqueName("r").toLowerCase();
    const socket = await socketFor(instances.a.url, ann.jar);
    const loose = socket as unknown as {
      emitWithAck(event: string, ...args: unknown[]): Promise<Result<object>>;
    };
    assert.equal(codeOf(await loose.emitWithAck("admin:delete-everything", {})), "unknown_event");
    assert.ok((await join(socket, room)).ok);
    const spoof = await loose.emitWithAck("message:send", {
      room,
      text: "hi",
      clientId: "spoof",
      user: "someone_else",
    });
    assert.equal(codeOf(spoof), "invalid_input");
    const sent = await send(socket, room, "as myself");
    assert.ok(sent.ok);
    assert.equal(sent.message.user, ann.name);
  });
});
