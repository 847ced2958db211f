import assert from "node:assert/strict";
import { test } from "node:test";
import { MemoryStorage, type OutboxEntry } from "../src/client/core/index.ts";
import type { JoinResult, Message, Result, StreamPosition } from "../src/protocol/index.ts";
import { instancesOnRedis } from "./helpers/fixtures.ts";
import {
  connectedClient,
  type RawSocket,
  rawSocket,
  registeredUser,
  socketReady,
  uniqueName,
} from "./helpers/users.ts";

/**
 * A clientId is remembered as long as its message is in the room's history,
 * and no longer: Redis holds a capped record per room, not a key per message.
 */
/** Messages a room keeps (about: the stream is trimmed by whole nodes of 100). */
const HISTORY = 10;
const cluster = instancesOnRedis(
  { MESSAGE_RATE_PER_SECOND: "0", HISTORY_SIZE: String(HISTORY) },
  { count: 1, db: true },
);

async function inNewRoom() {
  const user = await registeredUser(cluster.a.url);
  const socket = rawSocket(cluster.a.url, user.jar, ["websocket"]);
  cluster.track(socket);
  await socketReady(socket);
  const room = uniqueName("r").toLowerCase();
  const joined = (await socket.emitWithAck("room:join", { room })) as Result<JoinResult>;
  assert.ok(joined.ok);
  return { user, socket, room, epoch: joined.epoch };
}

function send(
  socket: RawSocket,
  room: string,
  text: string,
  clientId: string,
  since?: StreamPosition,
) {
  return socket.emitWithAck("message:send", {
    room,
    text,
    clientId,
    ...(since === undefined ? {} : { since }),
  }) as Promise<Result<{ message: Message }>>;
}

/** `count` messages from others, a few at a time. */
async function fill(socket: RawSocket, room: string, count: number, tag = uniqueName("f")) {
  for (let i = 0; i < count; i += 25) {
    const batch = Array.from({ length: Math.min(25, count - i) }, (_unused, j) =>
      send(socket, room, `${tag} ${i + j}`, `${tag}-${i + j}`),
    );
    for (const result of await Promise.all(batch)) assert.ok(result.ok);
  }
}

async function roomOffset(socket: RawSocket, room: string): Promise<number> {
  const state = (await socket.emitWithAck("room:join", { room })) as Result<JoinResult>;
  assert.ok(state.ok);
  return state.offset;
}

test("a resend whose message is still in the history gets the stored message, and nothing is stored", async () => {
  const { socket, room, epoch } = await inNewRoom();
  const first = await send(socket, room, "hello", "once-1", { epoch, offset: 0 });
  assert.ok(first.ok);
  await fill(socket, room, HISTORY - 2);
  for (const since of [{ epoch, offset: 0 }, undefined]) {
    const again = await send(socket, room, "hello", "once-1", since);
    assert.ok(again.ok);
    assert.deepEqual(again.message, first.message);
  }
  assert.equal(await roomOffset(socket, room), HISTORY - 1);
});

test("a resend from before what the history keeps is refused with resend_expired, and not stored", async () => {
  const { socket, room, epoch } = await inNewRoom();
  const old = await send(socket, room, "from long ago", "old-1", { epoch, offset: 0 });
  assert.ok(old.ok);
  // Past what the stream keeps, whole trimmed nodes included.
  await fill(socket, room, 250);
  const again = await send(socket, room, "from long ago", "old-1", { epoch, offset: 0 });
  assert.equal(again.ok, false);
  assert.equal(!again.ok && again.error.code, "resend_expired");
  // One never stored, from the same old position, cannot be told apart: refused too.
  const never = await send(socket, room, "never arrived", "old-2", { epoch, offset: 0 });
  assert.equal(!never.ok && never.error.code, "resend_expired");
  assert.equal(await roomOffset(socket, room), 251, "neither was stored");
  // From a position the history still covers, a new message is stored.
  const fresh = await send(socket, room, "now", "new-1", { epoch, offset: 251 });
  assert.ok(fresh.ok);
  assert.equal(fresh.message.offset, 252);
  // From another epoch (the room's history was lost since), it is stored.
  const other = await send(socket, room, "after a loss", "new-2", { epoch: "0ld", offset: 1 });
  assert.ok(other.ok);
  assert.equal(other.message.offset, 253);
});

test("the dedup record holds exactly the clientIds of the messages in the history", async () => {
  const { socket, room } = await inNewRoom();
  await fill(socket, room, 400);
  const log = `sb:{room:${room}}:log`;
  const cids = `sb:{room:${room}}:cids`;
  const entries = (await cluster.db.sendCommand(["XRANGE", log, "-", "+"])) as [string, string[]][];
  const offsets = entries.map(([id]) => Number(id.split("-")[0]));
  const record = (await cluster.db.sendCommand([
    "ZRANGE",
    cids,
    "0",
    "-1",
    "WITHSCORES",
  ])) as string[];
  const scores = record.filter((_value, i) => i % 2 === 1).map(Number);
  assert.ok(offsets.length >= HISTORY && offsets.length < 400, `${offsets.length} kept`);
  assert.deepEqual(scores, offsets);
  const keys = (await cluster.db.keys(`sb:{room:${room}}:*`)).sort();
  const tag = `sb:{room:${room}}`;
  const expected = [
    cids,
    log,
    `${tag}:epoch`,
    `${tag}:seq`,
    `${tag}:presence`,
    `${tag}:members`,
    `${tag}:roster`,
  ];
  assert.deepEqual(keys, expected.sort(), "no key per message");
});

test("Redis does not grow with messages once the history is full", async () => {
  const { socket, room } = await inNewRoom();
  await fill(socket, room, 300);
  /** What the keys hold (Redis's used_memory also counts buffers that swing with traffic). */
  const footprint = async () => {
    let used = 0;
    const keys = await cluster.db.keys("*");
    for (const key of keys) {
      used += Number(await cluster.db.sendCommand(["MEMORY", "USAGE", key, "SAMPLES", "0"]));
    }
    return { used, keys: keys.length };
  };
  const full = await footprint();
  const count = 2000;
  await fill(socket, room, count);
  const later = await footprint();
  assert.equal(later.keys, full.keys, "no key per message");
  const perMessage = (later.used - full.used) / count;
  // It was 459 bytes per message with a dedup key per clientId.
  assert.ok(perMessage < 20, `${perMessage.toFixed(1)} bytes per message`);
});

test("the client shows an outbox entry from before the history as failed, and settles one still in it", async () => {
  const { user, socket, room, epoch } = await inNewRoom();
  const kept = await send(socket, room, "stored, ack lost", "kept-1", { epoch, offset: 0 });
  assert.ok(kept.ok);
  await fill(socket, room, 250);
  const stale = await send(socket, room, "stored, ack lost, long ago?", "stale-1");
  assert.ok(stale.ok);
  const storage = new MemoryStorage();
  const entry = (clientId: string, text: string, since: StreamPosition): OutboxEntry => ({
    clientId,
    room,
    text,
    createdAt: Date.now(),
    status: "sending",
    since,
  });
  storage.save([
    entry("gone-1", "sent long ago", { epoch, offset: 0 }),
    entry("stale-1", "stored, ack lost, long ago?", { epoch, offset: 250 }),
  ]);
  const client = await connectedClient(cluster.a.url, user.http, { rooms: [room], storage });
  try {
    const settled = new Promise<void>((resolve) => {
      const check = () => {
        if (client.outbox.sending().length === 0) resolve();
      };
      client.on("outbox", check);
      check();
    });
    await settled;
    const [failed, ...rest] = client.outbox.all();
    assert.deepEqual(rest, [], "the stored one left the outbox");
    assert.equal(failed?.clientId, "gone-1");
    assert.equal(failed?.status, "failed");
    assert.equal(failed?.error?.code, "resend_expired");
    assert.equal(await roomOffset(socket, room), 252, "nothing stored twice");
    const view = client.rooms.get(room);
    assert.equal(view?.messages.filter((m) => m.clientId === "stale-1").length, 1);
  } finally {
    client.close();
  }
});

test("the client names its position with a send, and a resend keeps the first one", async () => {
  const { user, socket, room } = await inNewRoom();
  await fill(socket, room, 3);
  const storage = new MemoryStorage();
  const client = await connectedClient(cluster.a.url, user.http, { rooms: [room], storage });
  try {
    const view = client.rooms.get(room);
    assert.equal(view?.offset, 3);
    const sent = client.send(room, "hi");
    await new Promise<void>((resolve) => {
      const off = client.on("outbox", (entries) => {
        if (entries.length === 0) {
          off();
          resolve();
        }
      });
    });
    assert.equal(view?.messages.at(-1)?.clientId, sent.clientId);
    assert.equal(view?.offset, 4);
  } finally {
    client.close();
  }
});
