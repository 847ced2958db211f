import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { RedisClusterServer } from "../bench/harness/redis-cluster.ts";
import type { JoinResult, Message, PresenceEvent, Result } from "../src/protocol/index.ts";
import { TestInstance } from "./helpers/instance.ts";
import {
  connectedClient,
  nextEvent,
  onMessages,
  type RawSocket,
  rawSocket,
  registeredUser,
  sameCookieAt,
  socketReady,
} from "./helpers/users.ts";

/**
 * The same chat on a Redis Cluster of three masters: keys of a room in one
 * slot, messages by sharded pub/sub per room, the sharded Socket.IO adapter
 * for presence, typing and logout.
 */
let cluster: RedisClusterServer;
let a: TestInstance;
let b: TestInstance;
const sockets: RawSocket[] = [];

before(async () => {
  cluster = await RedisClusterServer.start(3);
  const env = {
    REDIS_CLUSTER_NODES: cluster.urls.join(","),
    MESSAGE_RATE_PER_SECOND: "0",
    SESSION_SECRET: "test-secret-0123456789abcdef",
  };
  [a, b] = await Promise.all([
    TestInstance.start({ ...env, INSTANCE_ID: "rc-a" }),
    TestInstance.start({ ...env, INSTANCE_ID: "rc-b" }),
  ]);
});

after(async () => {
  for (const socket of sockets) socket.disconnect();
  await Promise.all([a?.stop("SIGKILL"), b?.stop("SIGKILL")]);
  await cluster?.close();
});

async function joined(baseUrl: string, jar: Parameters<typeof rawSocket>[1], room: string) {
  const socket = rawSocket(baseUrl, jar, ["websocket"]);
  sockets.push(socket);
  await socketReady(socket);
  const result = (await socket.emitWithAck("room:join", { room })) as Result<JoinResult>;
  assert.ok(result.ok);
  return socket;
}

test("rooms on different shards carry messages across instances, in order, each once", async () => {
  const ann = await registeredUser(a.url);
  const bob = await registeredUser(b.url);
  assert.deepEqual(await sameCookieAt(b.url, ann.jar).session(), {
    user: { name: ann.name },
    instance: "rc-b",
  });
  // Twelve rooms spread over the three masters' slots.
  const rooms = Array.from({ length: 12 }, (_r, i) => `shard-${i}`);
  const senders = await Promise.all(rooms.map((room) => joined(a.url, ann.jar, room)));
  const receivers = await Promise.all(rooms.map((room) => joined(b.url, bob.jar, room)));
  const got = new Map<string, number[]>();
  for (const receiver of receivers) {
    onMessages(receiver, (m) => got.set(m.room, [...(got.get(m.room) ?? []), m.offset]));
  }
  for (let n = 1; n <= 3; n++) {
    await Promise.all(
      senders.map((sender, i) =>
        sender.emitWithAck("message:send", {
          room: rooms[i] ?? "",
          text: `m${n}`,
          clientId: `c${n}`,
        }),
      ),
    );
  }
  const [firstRoom, firstSender] = [rooms[0] ?? "", senders[0]];
  const again = (await firstSender?.emitWithAck("message:send", {
    room: firstRoom,
    text: "m1",
    clientId: "c1",
  })) as Result<{ message: Message }>;
  assert.ok(again.ok, JSON.stringify(again));
  assert.equal(again.message.offset, 1, "a resent clientId is stored once");
  const deadline = Date.now() + 5000;
  while (rooms.some((room) => (got.get(room)?.length ?? 0) < 3) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  for (const room of rooms) assert.deepEqual(got.get(room), [1, 2, 3], room);
  // The rooms really are spread: every master holds some of their histories.
  for (const port of cluster.ports) {
    const { stdout } = await promisify(execFile)("redis-cli", [
      "-p",
      String(port),
      "--scan",
      "--pattern",
      "sb:{room:shard-*}:log",
    ]);
    assert.ok(stdout.trim() !== "", `no room on the master at port ${port}`);
  }
});

test("presence and typing cross instances through the sharded adapter; logout ends sockets everywhere", async () => {
  const room = "cluster-presence";
  const ann = await registeredUser(a.url);
  const bob = await registeredUser(b.url);
  const sb = await joined(b.url, bob.jar, room);
  const seen = nextEvent<PresenceEvent>(
    (fn) => {
      sb.on("presence", fn);
      return () => sb.off("presence", fn);
    },
    (e) => e.user === ann.name && e.state === "join",
  );
  const sa = await joined(a.url, ann.jar, room);
  await seen;
  const typing = nextEvent<{ user: string }>((fn) => {
    sb.on("typing", fn);
    return () => sb.off("typing", fn);
  });
  sa.emit("typing", { room });
  assert.equal((await typing).user, ann.name);

  const client = await connectedClient(b.url, sameCookieAt(b.url, ann.jar));
  const loggedOut = nextEvent<void>((fn) => client.on("logged-out", fn));
  const gone = new Promise<string>((resolve) => sa.on("disconnect", resolve));
  await ann.http.logout();
  assert.equal(await gone, "io server disconnect");
  await loggedOut;
  client.close();
});

test("history and replay read from the room's shard", async () => {
  const ann = await registeredUser(a.url);
  const room = "cluster-history";
  const sa = await joined(a.url, ann.jar, room);
  const first = (await sa.emitWithAck("room:join", { room })) as Result<JoinResult>;
  assert.ok(first.ok);
  for (let i = 1; i <= 5; i++) {
    await sa.emitWithAck("message:send", { room, text: `h${i}`, clientId: `h${i}` });
  }
  const sb = await joined(b.url, ann.jar, room);
  const replay = (await sb.emitWithAck("room:join", {
    room,
    since: { epoch: first.epoch, offset: 2 },
  })) as Result<JoinResult>;
  assert.ok(replay.ok);
  assert.equal(replay.recovered, true);
  assert.deepEqual(
    replay.messages.map((m) => m.text),
    ["h3", "h4", "h5"],
  );
  assert.equal((await fetch(`${b.url}/readyz`)).status, 200);
});
