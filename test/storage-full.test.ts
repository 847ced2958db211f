import assert from "node:assert/strict";
import { test } from "node:test";
import { ApiError } from "../src/client/core/index.ts";
import type { JoinResult, Message, Result } from "../src/protocol/index.ts";
import { instancesOnRedis } from "./helpers/fixtures.ts";
import {
  connectedClient,
  PASSWORD,
  rawSocket,
  registeredUser,
  socketReady,
  uniqueName,
} from "./helpers/users.ts";

/**
 * Redis at its memory limit (maxmemory, noeviction): sends are refused with
 * a retryable storage_full and wait in the client's outbox, what was
 * acknowledged stays, history and presence stay readable, /readyz and the
 * log say why, and everything goes on once memory is freed.
 */
const FILLER = "x".repeat(64 * 1024);
const cluster = instancesOnRedis({ PRESENCE_HEARTBEAT_MS: "200" }, { count: 1, db: true });

async function usedMemory(): Promise<number> {
  return Number(/used_memory:(\d+)/.exec(await cluster.db.info("memory"))?.[1]);
}

/**
 * Sets a tiny maxmemory and fills Redis up to it; returns how many filler
 * keys it took. Then the limit is set a little below what is used, so that
 * the connection buffers' swings cannot let a write slip through now and then.
 */
async function fillToTheLimit(): Promise<number> {
  await cluster.db.configSet({ "maxmemory-policy": "noeviction", maxmemory: "4mb" });
  for (let i = 0; i < 1000; i += 1) {
    try {
      await cluster.db.set(`filler:${i}`, FILLER);
    } catch (error) {
      assert.match(String(error), /OOM /);
      await cluster.db.configSet({ maxmemory: String((await usedMemory()) - 256 * 1024) });
      return i;
    }
  }
  throw new Error("Redis never refused a write");
}

async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

test("at maxmemory, sends get storage_full and wait in the outbox; reads go on; freed memory lets them through", async () => {
  const room = uniqueName("r").toLowerCase();
  const ann = await registeredUser(cluster.a.url);
  const bob = await registeredUser(cluster.a.url);
  const annClient = await connectedClient(cluster.a.url, ann.http, { rooms: [room] });
  cluster.track(annClient);
  for (const text of ["one", "two", "three"]) annClient.send(room, text);
  await until(() => annClient.outbox.all().length === 0, "the first sends' acks");

  const fillers = await fillToTheLimit();
  assert.ok(fillers > 0, "the limit was above what the chat used");

  // A raw send: the code, and a message a person can act on.
  const raw = rawSocket(cluster.a.url, ann.jar, ["websocket"]);
  cluster.track(raw);
  await socketReady(raw);
  assert.ok(((await raw.emitWithAck("room:join", { room })) as Result<JoinResult>).ok);
  const refused = (await raw.emitWithAck("message:send", {
    room,
    text: "refused",
    clientId: "refused-1",
  })) as Result<{ message: Message }>;
  assert.equal(refused.ok, false);
  assert.equal(!refused.ok && refused.error.code, "storage_full");

  // The client keeps its message and tries again.
  const held = annClient.send(room, "held while full");
  await new Promise((resolve) => setTimeout(resolve, 2500));
  assert.equal(annClient.outbox.get(held.clientId)?.status, "sending");

  // History and presence stay readable; bob joins and is seen.
  const bobSocket = rawSocket(cluster.a.url, bob.jar, ["websocket"]);
  cluster.track(bobSocket);
  await socketReady(bobSocket);
  const joined = (await bobSocket.emitWithAck("room:join", { room })) as Result<JoinResult>;
  assert.ok(joined.ok, JSON.stringify(joined));
  assert.deepEqual(
    joined.messages.map((m) => m.text),
    ["one", "two", "three"],
  );
  assert.deepEqual(joined.members, [ann.name, bob.name].sort());
  const older = (await bobSocket.emitWithAck("history", {
    room,
    before: 3,
    limit: 10,
  })) as Result<{ messages: Message[] }>;
  assert.ok(older.ok);
  assert.deepEqual(
    older.messages.map((m) => m.text),
    ["one", "two"],
  );

  // A login needs a write: refused with the same code over HTTP.
  await assert.rejects(bob.http.login(bob.name, PASSWORD), (error: unknown) => {
    assert.ok(error instanceof ApiError);
    assert.equal(error.code, "storage_full");
    assert.equal(error.status, 503);
    return true;
  });

  // /readyz and the log say why; the instance stays in routing.
  const ready = await fetch(`${cluster.a.url}/readyz`);
  assert.equal(ready.status, 200);
  const body = (await ready.json()) as { storage: string; reason?: string };
  assert.equal(body.storage, "full");
  assert.match(body.reason ?? "", /memory limit/);
  assert.match(cluster.a.logs.join(""), /at its memory limit/);

  // Memory is freed: the held message goes through, once, after the others.
  for (let i = 0; i < fillers; i += 1) await cluster.db.del(`filler:${i}`);
  await until(() => annClient.outbox.all().length === 0, "the held message's ack");
  const view = annClient.rooms.get(room);
  assert.deepEqual(
    view?.messages.map((m) => [m.offset, m.text]),
    [
      [1, "one"],
      [2, "two"],
      [3, "three"],
      [4, "held while full"],
    ],
  );
  const after = (await (await fetch(`${cluster.a.url}/readyz`)).json()) as { storage: string };
  assert.equal(after.storage, "ok");
  assert.match(cluster.a.logs.join(""), /accepts writes again/);
});
