import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import {
  type JoinResult,
  MEMBERS_PAGE,
  type PresenceBatch,
  type PresenceEvent,
  type PresenceListResult,
  type Result,
} from "../src/protocol/index.ts";
import { twoInstances } from "./helpers/fixtures.ts";
import { TestInstance } from "./helpers/instance.ts";
import {
  connectedClient,
  type RawSocket,
  rawSocket,
  registeredUser,
  sameCookieAt,
  socketReady,
  uniqueName,
} from "./helpers/users.ts";

/**
 * Presence in big rooms: a join that answers in constant size, paging with
 * presence:list, and joins and leaves announced per window in batches. Two
 * instances on one Redis; presence goes through the same store on every
 * topology, which the chat suite covers.
 */
const WINDOW_MS = 1500;

const instances = twoInstances(
  {
    PRESENCE_HEARTBEAT_MS: "200",
    // The big-room tests register more users from one address than a minute allows by default.
    AUTH_ATTEMPTS_PER_MINUTE: "100000",
    // Long enough that a reconnect on this busy machine surely fits in it.
    PRESENCE_WINDOW_MS: String(WINDOW_MS),
  },
  { ids: ["inst-a", "inst-b"] },
);
const a = {
  get url() {
    return instances.a.url;
  },
};
const b = {
  get url() {
    return instances.b.url;
  },
};
const sockets: RawSocket[] = [];

after(() => {
  for (const socket of sockets) socket.disconnect();
});

async function socketFor(baseUrl: string, jar: Parameters<typeof rawSocket>[1]) {
  const socket = rawSocket(baseUrl, jar);
  sockets.push(socket);
  await socketReady(socket);
  return socket;
}

function join(socket: RawSocket, room: string) {
  return socket.emitWithAck("room:join", { room }) as Promise<Result<JoinResult>>;
}

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
      ...instances.env,
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
