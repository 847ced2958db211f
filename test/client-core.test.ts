import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import { describe, test } from "node:test";
import { WebSocketServer } from "ws";
import {
  backoffDelay,
  type ConnectionStatus,
  HttpApi,
  MemoryStorage,
  type OutboxEntry,
  RoomMembers,
  RoomView,
  SwitchboardClient,
} from "../src/client/core/index.ts";
import type { JoinResult, Message } from "../src/protocol/index.ts";
import { twoInstances } from "./helpers/fixtures.ts";
import {
  rawSocket,
  registeredUser,
  sameCookieAt,
  socketReady,
  uniqueName,
} from "./helpers/users.ts";

const EPOCH = "e1";

function message(offset: number, epoch = EPOCH): Message {
  return {
    id: `id-${epoch}-${offset}`,
    room: "lobby",
    offset,
    epoch,
    user: "ann",
    text: `m${offset}`,
    ts: 0,
    clientId: `c${offset}`,
  };
}

function joinResult(offsets: number[], options: Partial<JoinResult> = {}): JoinResult {
  const messages = offsets.map((o) => message(o, options.epoch ?? EPOCH));
  return {
    room: "lobby",
    epoch: EPOCH,
    offset: offsets.at(-1) ?? 0,
    messages,
    recovered: false,
    more: false,
    members: ["ann"],
    memberCount: 1,
    ...options,
  };
}

const shown = (view: RoomView) => view.messages.map((m) => m.offset);

describe("RoomView: each message once, in offset order", () => {
  test("a first join shows the latest messages and takes the room's position", () => {
    const view = new RoomView("lobby");
    const change = view.applyJoin(joinResult([3, 4, 5]));
    assert.equal(change.reset, true);
    assert.deepEqual(shown(view), [3, 4, 5]);
    assert.deepEqual(view.position, { epoch: EPOCH, offset: 5 });
  });

  test("an empty room starts at its offset", () => {
    const view = new RoomView("lobby");
    view.applyJoin(joinResult([], { offset: 0 }));
    assert.deepEqual(view.position, { epoch: EPOCH, offset: 0 });
    view.feed([message(1)]);
    assert.deepEqual(shown(view), [1]);
  });

  test("duplicates and old messages are dropped", () => {
    const view = new RoomView("lobby");
    view.applyJoin(joinResult([1, 2]));
    const change = view.feed([message(2), message(1), message(3), message(3)]);
    assert.deepEqual(
      change.added.map((m) => m.offset),
      [3],
    );
    assert.deepEqual(shown(view), [1, 2, 3]);
  });

  test("a gap (41 then 43) is reported, and filled messages come out in order", () => {
    const view = new RoomView("lobby");
    view.applyJoin(joinResult([40, 41]));
    const gap = view.feed([message(43), message(44)]);
    assert.equal(gap.gap, true);
    assert.deepEqual(gap.added, []);
    assert.equal(view.hasGap, true);
    const filled = view.applyJoin(joinResult([42, 43], { recovered: true, offset: 43 }));
    assert.equal(filled.reset, false);
    assert.deepEqual(
      filled.added.map((m) => m.offset),
      [42, 43, 44],
    );
    assert.equal(view.hasGap, false);
    assert.deepEqual(view.position.offset, 44);
  });

  test("recovered: false or a new epoch replaces the view", () => {
    const view = new RoomView("lobby");
    view.applyJoin(joinResult([1, 2, 3]));
    assert.equal(view.feed([message(4, "e2")]).gap, true);
    const change = view.applyJoin(joinResult([1, 2], { epoch: "e2", recovered: false }));
    assert.equal(change.reset, true);
    assert.deepEqual(shown(view), [1, 2]);
    assert.deepEqual(view.position, { epoch: "e2", offset: 2 });
  });

  test("live messages that come before the first join reply are shown after it, once", () => {
    // The handshake joined the room: its live messages can arrive before `ready` brings the reply.
    const view = new RoomView("lobby");
    assert.deepEqual(view.feed([message(5), message(6)]).added, []);
    const change = view.applyJoin(joinResult([3, 4, 5]));
    assert.equal(change.reset, true);
    assert.deepEqual(
      change.added.map((m) => m.offset),
      [3, 4, 5, 6],
    );
    assert.deepEqual(view.position, { epoch: EPOCH, offset: 6 });
  });

  test("a reload keeps the live messages newer than what it read, and only of its epoch", () => {
    const view = new RoomView("lobby");
    view.applyJoin(joinResult([1, 2, 3]));
    view.feed([message(6), message(7)]);
    const change = view.applyJoin(joinResult([4, 5], { recovered: false }));
    assert.equal(change.reset, true);
    assert.deepEqual(shown(view), [4, 5, 6, 7]);
    const other = new RoomView("lobby");
    other.feed([message(9, "old")]);
    other.applyJoin(joinResult([1, 2]));
    assert.deepEqual(shown(other), [1, 2]);
    assert.equal(other.hasGap, false);
  });

  test("the view keeps at most `keep` messages but never re-shows trimmed ones", () => {
    const view = new RoomView("lobby", 3);
    view.applyJoin(joinResult([1]));
    view.feed([2, 3, 4, 5].map((o) => message(o)));
    assert.deepEqual(shown(view), [3, 4, 5]);
    assert.deepEqual(view.feed([message(2)]).added, []);
    assert.deepEqual(
      view.prepend([message(1), message(2)]).map((m) => m.offset),
      [1, 2],
    );
    assert.deepEqual(shown(view), [1, 2, 3, 4, 5]);
  });
});

describe("backoff with full jitter", () => {
  test("the first try comes within 250 ms, later ones are capped", () => {
    assert.equal(
      backoffDelay(0, undefined, () => 0.999),
      249,
    );
    assert.equal(
      backoffDelay(3, undefined, () => 0.5),
      1000,
    );
    assert.equal(
      backoffDelay(30, undefined, () => 0.999),
      3996,
    );
    assert.equal(
      backoffDelay(5, undefined, () => 0),
      0,
    );
  });

  test("delays spread over the whole range (clients of a dead instance do not stampede)", () => {
    const delays = Array.from({ length: 2000 }, () => backoffDelay(2));
    const buckets = [0, 0, 0, 0];
    for (const d of delays) {
      const bucket = Math.min(3, Math.floor(d / 250));
      buckets[bucket] = (buckets[bucket] ?? 0) + 1;
    }
    for (const count of buckets) assert.ok(count > 350, `uneven spread: ${buckets.join(", ")}`);
  });
});

describe("SwitchboardClient: reconnection", () => {
  test("a WebSocket cut before the handshake is done is tried again at once, not after Socket.IO's 20 s timeout", async () => {
    // A server that accepts every WebSocket and closes it straight away, as an
    // instance that dies while accepting the handshake does.
    const server = new WebSocketServer({ port: 0, host: "127.0.0.1" });
    let accepted = 0;
    server.on("connection", (ws) => {
      accepted += 1;
      ws.close();
    });
    await new Promise((resolve) => server.once("listening", resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const client = new SwitchboardClient({
      url,
      http: new HttpApi(url),
      transports: ["websocket"],
    });
    const states: ConnectionStatus["state"][] = [];
    client.on("status", (status) => states.push(status.state));
    try {
      client.start();
      const deadline = Date.now() + 10_000;
      while (accepted < 3 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      assert.ok(accepted >= 3, `${accepted} handshakes in 10 s`);
      assert.deepEqual(states.slice(0, 3), ["connecting", "reconnecting", "reconnecting"]);
    } finally {
      client.close();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe("RoomMembers: the count and the names loaded so far", () => {
  test("a join's first page, pages after it, and batches with the room's count", () => {
    const members = new RoomMembers();
    members.reset(["ann", "bob"], 5);
    assert.deepEqual([members.count, members.complete, members.cursor], [5, false, "bob"]);
    members.addPage({ room: "lobby", count: 5, members: ["cid", "dan"], more: true });
    members.apply(["zed"], ["ann"], 5);
    assert.deepEqual([...members].sort(), ["bob", "cid", "dan", "zed"]);
    assert.equal(members.count, 5);
    members.addPage({ room: "lobby", count: 5, members: ["eve", "zed"], more: false });
    assert.deepEqual([...members].sort(), ["bob", "cid", "dan", "eve", "zed"]);
    assert.equal(members.complete, true);
    // A count-only batch changes the count and no name.
    members.apply([], [], 9000);
    assert.deepEqual([members.count, members.size], [9000, 5]);
  });

  test("protocol 1 events, without a count, count each join and leave once", () => {
    const members = new RoomMembers();
    members.reset(["ann"], 1);
    let changes = 0;
    const stop = members.watch(() => {
      changes += 1;
    });
    members.apply(["bob"], []);
    members.apply(["bob"], []);
    members.apply([], ["ann"]);
    stop();
    members.apply(["cid"], []);
    assert.deepEqual([members.count, [...members].sort()], [2, ["bob", "cid"]]);
    assert.equal(changes, 3);
  });
});

describe("SwitchboardClient: what a room shows of the outbox (a real instance)", () => {
  // Short enough to be refused without a long text; the limit is the server's.
  const pair = twoInstances({ MAX_MESSAGE_LENGTH: "50" });

  /** Records every `unsent` event of a room. */
  function unsentEvents(client: SwitchboardClient, room: string): OutboxEntry[][] {
    const seen: OutboxEntry[][] = [];
    client.on("unsent", (at, entries) => {
      if (at === room) seen.push(entries);
    });
    return seen;
  }

  test("a message the room shows before its acknowledgement is shown once, not also as unsent", async () => {
    const room = uniqueName("early");
    const user = await registeredUser(pair.b.url);
    // Stored through another instance, as a send whose acknowledgement was lost on the way.
    const socket = rawSocket(pair.b.url, user.jar);
    const text = "stored, ack lost";
    try {
      await socketReady(socket);
      assert.equal((await socket.emitWithAck("room:join", { room })).ok, true);
      const stored = await socket.emitWithAck("message:send", { room, text, clientId: "early1" });
      assert.equal(stored.ok, true);
    } finally {
      socket.disconnect();
    }
    const storage = new MemoryStorage();
    storage.save([{ clientId: "early1", room, text, createdAt: Date.now(), status: "sending" }]);
    const client = new SwitchboardClient({
      url: pair.a.url,
      http: sameCookieAt(pair.a.url, user.jar),
      rooms: [room],
      storage,
    });
    const events = unsentEvents(client, room);
    try {
      assert.deepEqual(
        client.unsent(room).map((entry) => entry.status),
        ["sending"],
        "before the room is loaded, it waits as any unsent message",
      );
      await client.open();
      // The join's reply showed it; its resend is on its way and the outbox still holds it.
      assert.deepEqual(
        client.outbox.all().map((entry) => entry.clientId),
        ["early1"],
      );
      const view = client.rooms.get(room);
      assert.deepEqual(
        view?.messages.map((message) => message.clientId),
        ["early1"],
      );
      assert.deepEqual(
        client.unsent(room),
        [],
        "delivered: the room shows it, the outbox does not",
      );
      assert.deepEqual(events.at(-1), [], "and the client said so when the room showed it");

      await until(() => client.outbox.all().length === 0);
      assert.deepEqual(
        view?.messages.map((message) => message.clientId),
        ["early1"],
        "the resend's acknowledgement does not show it twice",
      );
      assert.deepEqual(client.unsent(room), []);
    } finally {
      client.close();
    }
  });

  test("a room's unsent messages: sending while offline, delivered, failed, discarded", async () => {
    const room = uniqueName("out");
    const user = await registeredUser(pair.a.url);
    const client = new SwitchboardClient({ url: pair.a.url, http: user.http, rooms: [room] });
    const events = unsentEvents(client, room);
    try {
      const waiting = client.send(room, "typed before connecting");
      assert.deepEqual(
        client.unsent(room).map((entry) => [entry.clientId, entry.status]),
        [[waiting.clientId, "sending"]],
      );
      assert.deepEqual(events.at(-1), client.unsent(room));
      assert.deepEqual(client.unsent("lobby"), [], "another room shows none of it");

      await client.open();
      await until(() => client.outbox.all().length === 0);
      assert.deepEqual(client.unsent(room), []);
      assert.deepEqual(events.at(-1), []);
      assert.deepEqual(
        client.rooms.get(room)?.messages.map((message) => message.text),
        ["typed before connecting"],
      );

      const tooLong = client.send(room, "x".repeat(51));
      await until(() => client.outbox.get(tooLong.clientId)?.status === "failed");
      const [failed, ...rest] = client.unsent(room);
      assert.deepEqual(rest, []);
      assert.equal(failed?.clientId, tooLong.clientId);
      assert.equal(failed?.status, "failed");
      assert.equal(failed?.error?.code, "message_too_long");
      assert.deepEqual(events.at(-1), [failed]);

      client.discard(tooLong.clientId);
      assert.deepEqual(client.unsent(room), []);
      assert.deepEqual(events.at(-1), []);
      assert.deepEqual(
        client.rooms.get(room)?.messages.map((message) => message.text),
        ["typed before connecting"],
        "a refused message is never shown as sent",
      );
    } finally {
      client.close();
    }
  });
});

/** Waits until `done()` holds, checking every 20 ms; fails after `timeoutMs`. */
async function until(done: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`not done in ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
