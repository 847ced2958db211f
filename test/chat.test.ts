import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { CookieJar, HttpApi, SwitchboardClient } from "../src/client/core/index.ts";
import {
  type JoinResult,
  MEMBERS_PAGE,
  type Message,
  type PresenceBatch,
  type PresenceEvent,
  type PresenceListResult,
  type Result,
} from "../src/protocol/index.ts";
import { TestInstance } from "./helpers/instance.ts";
import { TestRedis } from "./helpers/redis-server.ts";
import {
  connectedClient,
  nextEvent,
  onMessages,
  type RawSocket,
  rawSocket,
  registeredUser,
  sameCookieAt,
  socketReady,
  uniqueName,
} from "./helpers/users.ts";

const WINDOW_MS = 1500;

/** Two instances on one Redis, as behind a load balancer. */
let redis: TestRedis;
let a: TestInstance;
let b: TestInstance;
const sockets: RawSocket[] = [];

const env = () => ({
  REDIS_URL: redis.url,
  SESSION_SECRET: "test-secret-0123456789abcdef",
  PRESENCE_HEARTBEAT_MS: "200",
  SESSION_CHECK_MS: "300",
  // The big-room tests register more users from one address than a minute allows by default.
  AUTH_ATTEMPTS_PER_MINUTE: "100000",
  // Long enough that a reconnect on this busy machine surely fits in it.
  PRESENCE_WINDOW_MS: String(WINDOW_MS),
});

before(async () => {
  redis = await TestRedis.start();
  [a, b] = await Promise.all([
    TestInstance.start({ ...env(), INSTANCE_ID: "inst-a" }),
    TestInstance.start({ ...env(), INSTANCE_ID: "inst-b" }),
  ]);
});

after(async () => {
  for (const socket of sockets) socket.disconnect();
  await Promise.all([a?.stop("SIGKILL"), b?.stop("SIGKILL")]);
  await redis?.close();
});

async function socketFor(baseUrl: string, jar: Parameters<typeof rawSocket>[1]) {
  const socket = rawSocket(baseUrl, jar);
  sockets.push(socket);
  await socketReady(socket);
  return socket;
}

function join(socket: RawSocket, room: string, since?: { epoch: string; offset: number }) {
  return socket.emitWithAck("room:join", {
    room,
    ...(since ? { since } : {}),
  }) as Promise<Result<JoinResult>>;
}

function send(socket: RawSocket, room: string, text: string, clientId = uniqueName("c")) {
  return socket.emitWithAck("message:send", { room, text, clientId }) as Promise<
    Result<{ message: Message }>
  >;
}

/** Ann on A and Bob on B, each with a socket in a new room. */
async function annAndBobInRoom() {
  const room = uniqueName("r").toLowerCase();
  const ann = await registeredUser(a.url);
  const bob = await registeredUser(b.url);
  const sa = await socketFor(a.url, ann.jar);
  const sb = await socketFor(b.url, bob.jar);
  assert.ok((await join(sa, room)).ok);
  assert.ok((await join(sb, room)).ok);
  return { room, ann, bob, sa, sb };
}

describe("sessions across instances", () => {
  test("a login on A is a login on B (the recipe's refresh on another instance)", async () => {
    const user = await registeredUser(a.url);
    const onB = await sameCookieAt(b.url, user.jar).session();
    assert.deepEqual(onB, { user: { name: user.name }, instance: "inst-b" });
  });

  test("login regenerates the session id and a wrong password is refused", async () => {
    const user = await registeredUser(a.url);
    const before = user.jar.get("JSESSIONID");
    await user.http.login(user.name, "correct horse battery");
    assert.notEqual(user.jar.get("JSESSIONID"), before);
    await assert.rejects(user.http.login(user.name, "wrong password!"), {
      code: "invalid_credentials",
    });
    await assert.rejects(user.http.login("nobody_here", "wrong password!"), {
      code: "invalid_credentials",
    });
  });

  test("a taken name and a bad body get their codes", async () => {
    const user = await registeredUser(a.url);
    await assert.rejects(registeredUser(b.url, user.name.toUpperCase()), {
      code: "username_taken",
    });
    await assert.rejects(registeredUser(b.url, "x"), { code: "invalid_input" });
    const res = await fetch(`${a.url}/api/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{not json",
    });
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, "invalid_input");
  });

  test("every response names its instance", async () => {
    const res = await fetch(`${b.url}/healthz`);
    assert.equal(res.headers.get("x-instance-id"), "inst-b");
    assert.equal(((await res.json()) as { status: string }).status, "ok");
    assert.equal((await fetch(`${a.url}/readyz`)).status, 200);
  });
});

describe("sockets", () => {
  test("a socket without a logged-in session is refused with unauthorized", async () => {
    const socket = rawSocket(a.url, undefined);
    sockets.push(socket);
    await assert.rejects(socketReady(socket), { message: "unauthorized" });
    const ws = rawSocket(b.url, undefined, ["websocket"]);
    sockets.push(ws);
    await assert.rejects(socketReady(ws), { message: "unauthorized" });
  });

  test("sockets on A and on B exchange messages in a room, with offsets rising by 1", async () => {
    const room = uniqueName("r").toLowerCase();
    const ann = await registeredUser(a.url);
    const bob = await registeredUser(b.url);
    const sa = await socketFor(a.url, ann.jar);
    const sb = await socketFor(b.url, bob.jar);
    const joined = await join(sa, room);
    assert.ok(joined.ok);
    assert.equal(joined.offset, 0);
    assert.ok((await join(sb, room)).ok);

    const atB = nextEvent<Message>((fn) => onMessages(sb, fn));
    const first = await send(sa, room, "hello from A");
    assert.ok(first.ok);
    const received = await atB;
    assert.deepEqual(received, first.message);
    assert.equal(received.user, ann.name);
    assert.equal(received.offset, 1);

    // A also receives its own message; wait for B's.
    const atA = nextEvent<Message>(
      (fn) => onMessages(sa, fn),
      (m) => m.user === bob.name,
    );
    const second = await send(sb, room, "hello from B");
    assert.ok(second.ok);
    assert.equal((await atA).text, "hello from B");
    assert.equal(second.message.offset, 2);
    assert.equal(second.message.epoch, first.message.epoch);
    assert.ok(Math.abs(second.message.ts - Date.now()) < 10_000);
  });

  test("messages that queued up for a busy instance reach its sockets together, in order, once", async () => {
    const { room, bob, sa, sb } = await annAndBobInRoom();
    const viewer = await connectedClient(b.url, sameCookieAt(b.url, bob.jar), { rooms: [room] });
    const frames: number[][] = [];
    sb.on("message", (m) => frames.push([m.offset]));
    sb.on("messages", (batch) => {
      assert.equal(batch.room, room);
      frames.push(batch.messages.map((m) => m.offset));
    });

    // B is frozen while A stores 20 messages: Redis queues them for B's subscriber.
    const count = 20;
    b.child.kill("SIGSTOP");
    try {
      for (let i = 1; i <= count; i++) assert.ok((await send(sa, room, `queued ${i}`)).ok);
    } finally {
      b.child.kill("SIGCONT");
    }
    const all = Array.from({ length: count }, (_m, i) => i + 1);
    const deadline = Date.now() + 5000;
    while (frames.flat().length < count && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.deepEqual(frames.flat(), all, "every message once, in offset order");
    assert.ok(frames.length < count, `${count} messages came in ${frames.length} frames`);
    // The client shows them the same way: once each, in order, without a reload.
    const view = viewer.rooms.get(room);
    while ((view?.offset ?? 0) < count && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.deepEqual(
      view?.messages.map((m) => m.text),
      all.map((i) => `queued ${i}`),
    );
    viewer.close();
  });

  test("sending again with the same clientId stores one message", async () => {
    const room = uniqueName("r").toLowerCase();
    const ann = await registeredUser(a.url);
    const sa = await socketFor(a.url, ann.jar);
    const sb = await socketFor(b.url, ann.jar);
    assert.ok((await join(sa, room)).ok);
    assert.ok((await join(sb, room)).ok);
    const first = await send(sa, room, "once", "same-client-id");
    const again = await send(sb, room, "once", "same-client-id");
    assert.ok(first.ok && again.ok);
    assert.deepEqual(again.message, first.message);
    const state = await join(sa, room);
    assert.ok(state.ok);
    assert.equal(state.offset, 1);
    assert.equal(state.messages.length, 1);
  });

  test("join with since replays the gap; history pages back", async () => {
    const room = uniqueName("r").toLowerCase();
    const ann = await registeredUser(a.url);
    const sa = await socketFor(a.url, ann.jar);
    const first = await join(sa, room);
    assert.ok(first.ok);
    for (let i = 1; i <= 5; i++) assert.ok((await send(sa, room, `m${i}`)).ok);
    const sb = await socketFor(b.url, ann.jar);
    const replay = await join(sb, room, { epoch: first.epoch, offset: 2 });
    assert.ok(replay.ok);
    assert.equal(replay.recovered, true);
    assert.deepEqual(
      replay.messages.map((m) => m.text),
      ["m3", "m4", "m5"],
    );
    const lost = await join(sb, room, { epoch: "an-old-epoch", offset: 2 });
    assert.ok(lost.ok);
    assert.equal(lost.recovered, false);
    assert.equal(lost.messages.length, 5);
    const older = (await sb.emitWithAck("history", { room, before: 4, limit: 2 })) as Result<{
      messages: Message[];
    }>;
    assert.ok(older.ok);
    assert.deepEqual(
      older.messages.map((m) => m.offset),
      [2, 3],
    );
  });

  test("bad payloads get error acks with stable codes", async () => {
    const room = uniqueName("r").toLowerCase();
    const ann = await registeredUser(a.url);
    const sa = await socketFor(a.url, ann.jar);
    const bad = (await sa.emitWithAck("room:join", { room: "Not A Room!" })) as Result<object>;
    assert.deepEqual(bad.ok ? undefined : bad.error.code, "invalid_input");
    const notJoined = await send(sa, room, "hi");
    assert.equal(notJoined.ok ? undefined : notJoined.error.code, "not_in_room");
    assert.ok((await join(sa, room)).ok);
    const tooLong = await send(sa, room, "x".repeat(2001));
    assert.equal(tooLong.ok ? undefined : tooLong.error.code, "message_too_long");
    const weird = (await (sa as unknown as { emitWithAck: RawSocket["emitWithAck"] }).emitWithAck(
      "message:send" as "history",
      { room, text: 42, clientId: "x" } as never,
    )) as Result<object>;
    assert.equal(weird.ok ? undefined : weird.error.code, "invalid_input");
  });

  test("typing is relayed to the others in the room, on other instances", async () => {
    const { room, ann, sa, sb } = await annAndBobInRoom();
    const typing = nextEvent<{ room: string; user: string }>((fn) => {
      sb.on("typing", fn);
      return () => sb.off("typing", fn);
    });
    sa.emit("typing", { room });
    assert.deepEqual(await typing, { room, user: ann.name });
  });
});

describe("presence", () => {
  test("B sees a user of A join and leave, and the member list says who is in", async () => {
    const room = uniqueName("r").toLowerCase();
    const ann = await registeredUser(a.url);
    const bob = await registeredUser(b.url);
    const sb = await socketFor(b.url, bob.jar);
    assert.ok((await join(sb, room)).ok);
    const events: PresenceEvent[] = [];
    sb.on("presence", (event) => events.push(event));

    const sa = await socketFor(a.url, ann.jar);
    const joinSeen = nextEvent<PresenceEvent>(
      (fn) => {
        sb.on("presence", fn);
        return () => sb.off("presence", fn);
      },
      (e) => e.user === ann.name,
    );
    const joined = await join(sa, room);
    assert.ok(joined.ok);
    assert.deepEqual(joined.members, [ann.name, bob.name].sort());
    assert.equal((await joinSeen).state, "join");

    const leaveSeen = nextEvent<PresenceEvent>(
      (fn) => {
        sb.on("presence", fn);
        return () => sb.off("presence", fn);
      },
      (e) => e.user === ann.name && e.state === "leave",
    );
    sa.disconnect();
    await leaveSeen;
    const now = await join(sb, room);
    assert.ok(now.ok);
    assert.deepEqual(now.members, [bob.name]);
  });
});

/** `count` users registered in lanes (each costs a scrypt), alternating between A and B. */
async function manyUsers(count: number) {
  const users: Awaited<ReturnType<typeof registeredUser>>[] = [];
  for (let i = 0; i < count; i += 8) {
    const lane = Array.from({ length: Math.min(8, count - i) }, (_u, k) =>
      registeredUser((i + k) % 2 === 0 ? a.url : b.url),
    );
    users.push(...(await Promise.all(lane)));
  }
  return users;
}

function listMembers(socket: RawSocket, request: Record<string, unknown>) {
  return socket.emitWithAck("presence:list", request as never) as Promise<
    Result<PresenceListResult>
  >;
}

describe("big rooms", () => {
  test("a join answers with the count and one page of members; presence:list pages through everyone once", async () => {
    const room = uniqueName("big").toLowerCase();
    const size = MEMBERS_PAGE + 20;
    const users = await manyUsers(size);
    for (const [i, user] of users.entries()) {
      const socket = await socketFor(i % 2 === 0 ? a.url : b.url, user.jar);
      assert.ok((await join(socket, room)).ok);
    }
    const last = await registeredUser(b.url);
    const socket = await socketFor(b.url, last.jar);
    const joined = await join(socket, room);
    assert.ok(joined.ok);
    assert.equal(joined.memberCount, size + 1);
    assert.equal(joined.members.length, MEMBERS_PAGE);
    assert.deepEqual(joined.members, [...joined.members].sort(), "name order");
    const bytes = Buffer.byteLength(JSON.stringify(joined));
    assert.ok(bytes <= 4096, `the join's reply is ${bytes} bytes`);

    const everyone = [...users.map((u) => u.name), last.name].sort();
    const seen: string[] = [];
    let after: string | undefined;
    for (let pages = 0; pages < 100; pages++) {
      const page = await listMembers(socket, { room, limit: 7, ...(after ? { after } : {}) });
      assert.ok(page.ok, JSON.stringify(page));
      assert.equal(page.count, size + 1);
      assert.ok(page.members.length <= 7);
      seen.push(...page.members);
      after = page.members.at(-1);
      if (!page.more) break;
    }
    assert.deepEqual(seen, everyone, "everyone exactly once, in name order");
    assert.deepEqual(joined.members, everyone.slice(0, MEMBERS_PAGE));

    // The client module shows the count at once and loads the rest page by page.
    const first = users[0];
    assert.ok(first !== undefined);
    const client = await connectedClient(a.url, sameCookieAt(a.url, first.jar), { rooms: [room] });
    try {
      const members = client.rooms.get(room)?.members;
      assert.ok(members !== undefined);
      assert.deepEqual(
        [members.count, members.size, members.complete],
        [size + 1, MEMBERS_PAGE, false],
      );
      while (!members.complete) await members.loadMore();
      assert.deepEqual([...members].sort(), everyone);
      assert.equal(members.count, size + 1);
    } finally {
      client.close();
    }
  });

  test("presence:list wants a joined room and a bounded limit", async () => {
    const ann = await registeredUser(a.url);
    const socket = await socketFor(a.url, ann.jar);
    const room = uniqueName("r").toLowerCase();
    const outside = await listMembers(socket, { room, limit: 10 });
    assert.equal(outside.ok ? undefined : outside.error.code, "not_in_room");
    assert.ok((await join(socket, room)).ok);
    for (const bad of [
      { room, limit: MEMBERS_PAGE + 1 },
      { room, limit: 0 },
      { room },
      { room, limit: 5, after: 3 },
      { room, limit: 5, extra: true },
    ]) {
      const reply = await listMembers(socket, bad);
      assert.equal(reply.ok ? undefined : reply.error.code, "invalid_input", JSON.stringify(bad));
    }
    const alone = await listMembers(socket, { room, limit: 10 });
    assert.ok(alone.ok);
    assert.deepEqual([alone.count, alone.members, alone.more], [1, [ann.name], false]);
  });
});

/** A protocol-2 socket (it gets `presence:batch`), optionally joining rooms in its handshake. */
async function batchSocket(
  baseUrl: string,
  jar: Parameters<typeof rawSocket>[1],
  rooms: string[] = [],
) {
  const socket = rawSocket(
    baseUrl,
    jar,
    ["websocket"],
    {},
    {
      protocol: 2,
      rooms: rooms.map((room) => ({ room })),
    },
  );
  sockets.push(socket);
  const ready = (await new Promise((resolve, reject) => {
    socket.once("ready", resolve);
    socket.once("connect_error", reject);
  })) as { protocol?: number; rejoin?: Result<{ rooms: Result<JoinResult>[] }> };
  assert.equal(ready.protocol, 2);
  if (rooms.length > 0) {
    assert.ok(ready.rejoin?.ok && ready.rejoin.rooms.every((r) => r.ok), JSON.stringify(ready));
  }
  return socket;
}

function recordBatches(socket: RawSocket): PresenceBatch[] {
  const batches: PresenceBatch[] = [];
  socket.on("presence:batch", (batch) => batches.push(batch));
  return batches;
}

async function until(condition: () => boolean, what: string, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("presence in batches (protocol 2)", () => {
  test("a reconnect within the window shows nothing to the others; a real leave comes as a batch", async () => {
    const room = uniqueName("r").toLowerCase();
    const ann = await registeredUser(a.url);
    const bob = await registeredUser(b.url);
    const sb = await batchSocket(b.url, bob.jar, [room]);
    const batches = recordBatches(sb);
    const mentions = (name: string) =>
      batches.filter((x) => x.joined?.includes(name) || x.left?.includes(name));

    const first = await batchSocket(a.url, ann.jar, [room]);
    await until(() => mentions(ann.name).length > 0, "Ann's join");
    assert.deepEqual(mentions(ann.name), [{ room, count: 2, joined: [ann.name], left: [] }]);

    // Ann's connection drops and she comes back, on the other instance, at once.
    first.disconnect();
    const again = await batchSocket(b.url, ann.jar, [room]);
    await sleep(WINDOW_MS * 2);
    assert.equal(mentions(ann.name).length, 1, JSON.stringify(batches));

    again.disconnect();
    await until(() => mentions(ann.name).length > 1, "Ann's leave");
    assert.deepEqual(mentions(ann.name)[1], { room, count: 1, joined: [], left: [ann.name] });
  });

  test("joins on two instances reach a member as a batch per instance and window; protocol 1 still gets one event each", async () => {
    const room = uniqueName("r").toLowerCase();
    const bob = await registeredUser(b.url);
    const carl = await registeredUser(a.url);
    const sb = await batchSocket(b.url, bob.jar, [room]);
    const batches = recordBatches(sb);
    const old = await socketFor(a.url, carl.jar);
    assert.ok((await join(old, room)).ok);
    // Bob's own join and Carl's (from the other instance) come first.
    const seen = () => batches.flatMap((x) => x.joined ?? []);
    await until(() => seen().includes(carl.name) && seen().includes(bob.name), "the first joins");
    const legacy: PresenceEvent[] = [];
    old.on("presence", (event) => legacy.push(event));
    batches.length = 0;

    const users = await manyUsers(10);
    await Promise.all(
      users.map((user, i) => batchSocket(i % 2 === 0 ? a.url : b.url, user.jar, [room])),
    );
    const names = users.map((u) => u.name).sort();
    const joinedNames = () => batches.flatMap((x) => x.joined ?? []);
    await until(() => joinedNames().length >= names.length, "every join");
    await sleep(WINDOW_MS);
    assert.deepEqual(joinedNames().sort(), names, "each join once");
    assert.ok(batches.length <= 4, `${names.length} joins came in ${batches.length} frames`);
    assert.equal(Math.max(...batches.map((x) => x.count)), names.length + 2);
    await until(() => legacy.length >= names.length, "protocol 1 events");
    assert.deepEqual(
      legacy.map((e) => `${e.state} ${e.user}`).sort(),
      names.map((n) => `join ${n}`),
    );
  });

  test("a room above the size limit announces its count alone and relays no typing", async () => {
    const c = await TestInstance.start({
      ...env(),
      INSTANCE_ID: "inst-c",
      PRESENCE_COUNT_ONLY_ABOVE: "2",
    });
    try {
      const room = uniqueName("r").toLowerCase();
      const [ann, bob, cid] = await Promise.all([
        registeredUser(c.url),
        registeredUser(c.url),
        registeredUser(c.url),
      ]);
      assert.ok(ann && bob && cid);
      const sa = await batchSocket(c.url, ann.jar, [room]);
      const batches = recordBatches(sa);
      await until(() => batches.length === 1, "Ann's own join");
      batches.length = 0;
      const typing: string[] = [];
      sa.on("typing", (event) => typing.push(event.user));
      const sb = await batchSocket(c.url, bob.jar, [room]);
      await until(() => batches.length === 1, "Bob's join");
      assert.deepEqual(batches[0], { room, count: 2, joined: [bob.name], left: [] });
      sb.emit("typing", { room });
      await until(() => typing.length === 1, "typing in a small room");

      await batchSocket(c.url, cid.jar, [room]);
      await until(() => batches.length === 2, "Cid's join");
      assert.deepEqual(batches[1], { room, count: 3 });
      sb.emit("typing", { room });
      await sleep(500);
      assert.deepEqual(typing, [bob.name], "no typing relayed above the limit");
    } finally {
      await c.stop("SIGKILL");
    }
  });
});

describe("logout", () => {
  test("logout ends every socket of the session, on every instance", async () => {
    const ann = await registeredUser(a.url);
    const client = await connectedClient(b.url, sameCookieAt(b.url, ann.jar));
    const tab = await socketFor(a.url, ann.jar);
    const gone = new Promise<string>((resolve) => tab.on("disconnect", resolve));
    const loggedOut = nextEvent<void>((fn) => client.on("logged-out", fn));
    await ann.http.logout();
    assert.equal(await gone, "io server disconnect");
    await loggedOut;
    assert.equal(await ann.http.session(), undefined);
    client.close();
  });

  test("a client whose session ended while it was away shows the login page, and stops trying", async () => {
    const ann = await registeredUser(a.url);
    // The cookie this browser still holds, after the session ended elsewhere.
    const stale = new CookieJar();
    stale.store([`JSESSIONID=${ann.jar.get("JSESSIONID")}`]);
    await ann.http.logout();
    const client = new SwitchboardClient({ url: b.url, http: new HttpApi(b.url, stale) });
    const states: string[] = [];
    client.on("status", (status) => states.push(status.state));
    await assert.rejects(client.open(), /logged out/);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.deepEqual(states, ["connecting", "logged-out"]);
    client.close();
  });
});
