import assert from "node:assert/strict";
import { after, test } from "node:test";
import type { JoinResult, Message, ReadyEvent, Result } from "../src/protocol/index.ts";
import { twoInstances } from "./helpers/fixtures.ts";
import type { TestInstance } from "./helpers/instance.ts";
import {
  connectedClient,
  nextEvent,
  onMessages,
  type RawSocket,
  rawSocket,
  registeredUser,
  socketReady,
  uniqueName,
} from "./helpers/users.ts";

/** Catching up after a gap: in pages, and honestly when the history no longer reaches back. */
const instances = twoInstances(
  { MESSAGE_RATE_PER_SECOND: "0" },
  { ids: ["short", "long"], each: [{ HISTORY_SIZE: "10" }, {}] },
);
/** The instance that keeps 10 messages per room, and the one that keeps the default. */
const short = () => instances.a;
const long = () => instances.b;
const sockets: RawSocket[] = [];

after(() => {
  for (const socket of sockets) socket.disconnect();
});

async function roomWith(target: TestInstance, count: number) {
  const user = await registeredUser(target.url);
  const socket = rawSocket(target.url, user.jar, ["websocket"]);
  sockets.push(socket);
  await socketReady(socket);
  const room = uniqueName("r").toLowerCase();
  const first = (await socket.emitWithAck("room:join", { room })) as Result<JoinResult>;
  assert.ok(first.ok);
  await Promise.all(
    Array.from({ length: count }, (_unused, i) =>
      socket.emitWithAck("message:send", { room, text: `m${i + 1}`, clientId: `c${i + 1}` }),
    ),
  );
  return { user, socket, room, epoch: first.epoch };
}

test("a gap longer than a page is replayed in pages, in order, with more: true until the end", async () => {
  const { socket, room, epoch } = await roomWith(long(), 450);
  const offsets: number[] = [];
  let since = { epoch, offset: 5 };
  const pages: boolean[] = [];
  for (let i = 0; i < 10; i++) {
    const page = (await socket.emitWithAck("room:join", { room, since })) as Result<JoinResult>;
    assert.ok(page.ok);
    assert.equal(page.recovered, true);
    assert.ok(page.messages.length <= 200);
    offsets.push(...page.messages.map((m: Message) => m.offset));
    pages.push(page.more);
    if (!page.more) break;
    since = { epoch, offset: page.messages.at(-1)?.offset ?? 0 };
  }
  assert.deepEqual(pages, [true, true, false]);
  assert.deepEqual(
    offsets,
    Array.from({ length: 445 }, (_unused, i) => i + 6),
  );
});

test("when the history no longer reaches back, the answer is recovered: false with the latest", async () => {
  const { socket, room, epoch } = await roomWith(short(), 300);
  const answer = (await socket.emitWithAck("room:join", {
    room,
    since: { epoch, offset: 1 },
  })) as Result<JoinResult>;
  assert.ok(answer.ok);
  assert.equal(answer.recovered, false);
  assert.equal(answer.offset, 300);
  assert.equal(answer.messages.at(-1)?.offset, 300);
  assert.ok((answer.messages[0]?.offset ?? 0) > 2, "the trimmed start is not offered as a replay");
});

test("rooms named in the handshake are joined as it opens: ready carries each reply, in order", async () => {
  const { user, socket, room, epoch } = await roomWith(long(), 5);
  const back = rawSocket(
    long().url,
    user.jar,
    ["websocket"],
    {},
    {
      rooms: [
        { room, since: { epoch, offset: 2 } },
        { room: "Not A Room!" },
        { room: `${room}-new` },
      ],
    },
  );
  sockets.push(back);
  const ready = (await socketReady(back)) as ReadyEvent;
  assert.ok(ready.rejoin?.ok, "the list was accepted");
  const [replay, bad, fresh] = ready.rejoin.rooms;
  assert.ok(replay?.ok);
  assert.equal(replay.recovered, true);
  assert.deepEqual(
    replay.messages.map((m) => m.text),
    ["m3", "m4", "m5"],
  );
  assert.ok(replay.members.includes(user.name));
  assert.equal(bad?.ok, false);
  assert.equal(bad.ok === false && bad.error.code, "invalid_input");
  assert.ok(fresh?.ok);
  assert.deepEqual(fresh.messages, []);
  // It is in the room like after room:join: it gets what others send, and may send.
  const arrived = nextEvent<Message>(
    (listener) => onMessages(back, listener),
    (m) => m.text === "m6",
  );
  await socket.emitWithAck("message:send", { room, text: "m6", clientId: "c6" });
  await arrived;
  const sent = (await back.emitWithAck("message:send", {
    room,
    text: "m7",
    clientId: "back7",
  })) as Result<{ message: Message }>;
  assert.ok(sent.ok);
});

test("a malformed or oversized handshake list gets one error in ready, and the socket still works", async () => {
  const user = await registeredUser(long().url);
  const cases: [Record<string, unknown> | undefined, string | undefined][] = [
    [{ rooms: "lobby" }, "invalid_input"],
    [{ rooms: [], token: "x" }, "invalid_input"],
    [{ rooms: Array.from({ length: 51 }, (_unused, i) => ({ room: `r${i}` })) }, "too_many_rooms"],
    [undefined, undefined],
  ];
  for (const [auth, code] of cases) {
    const s = rawSocket(long().url, user.jar, ["websocket"], {}, auth);
    sockets.push(s);
    const ready = (await socketReady(s)) as ReadyEvent;
    if (code === undefined) assert.equal(ready.rejoin, undefined, "no list, no answer");
    else assert.equal(ready.rejoin?.ok === false && ready.rejoin.error.code, code);
    const joined = (await s.emitWithAck("room:join", { room: "lobby" })) as Result<JoinResult>;
    assert.ok(joined.ok);
    s.disconnect();
  }
});

test("the client module reloads a room it cannot recover, and then goes on in order", async () => {
  const { user, room } = await roomWith(short(), 5);
  const client = await connectedClient(long().url, user.http, { rooms: [room] });
  try {
    const view = client.rooms.get(room);
    assert.ok(view);
    assert.deepEqual(
      view.messages.map((m) => m.offset),
      [1, 2, 3, 4, 5],
    );
    // Pretend the client was away while the room moved on past its history.
    client.close();
    // Stored through the instance with the short history, so the room's stream is trimmed.
    const other = rawSocket(short().url, user.jar, ["websocket"]);
    sockets.push(other);
    await socketReady(other);
    assert.ok(((await other.emitWithAck("room:join", { room })) as Result<JoinResult>).ok);
    for (let i = 6; i <= 400; i++) {
      await other.emitWithAck("message:send", { room, text: `m${i}`, clientId: `later${i}` });
    }
    const resets: boolean[] = [];
    client.on("room", (_view, change) => resets.push(change.reset));
    await client.open();
    assert.deepEqual(resets, [true], "one reload, no replay of a history that is gone");
    assert.equal(view.offset, 400);
    const shown = view.messages.map((m) => m.offset);
    assert.deepEqual(
      shown,
      Array.from({ length: shown.length }, (_unused, i) => 401 - shown.length + i),
    );
  } finally {
    client.close();
  }
});
