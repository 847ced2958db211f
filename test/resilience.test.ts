import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { createClient } from "redis";
import type { JoinResult, Message, PresenceEvent, Result } from "../src/protocol/index.ts";
import { TestInstance } from "./helpers/instance.ts";
import { TestRedis } from "./helpers/redis-server.ts";
import {
  nextEvent,
  onMessages,
  type RawSocket,
  rawSocket,
  registeredUser,
  socketReady,
  uniqueName,
} from "./helpers/users.ts";

let redis: TestRedis;
const instances: TestInstance[] = [];
const sockets: RawSocket[] = [];

before(async () => {
  redis = await TestRedis.start({ persistence: true });
});

after(async () => {
  for (const socket of sockets) socket.disconnect();
  await Promise.all(instances.map((instance) => instance.stop("SIGKILL")));
  await redis?.close();
});

async function instance(id: string): Promise<TestInstance> {
  const started = await TestInstance.start({
    REDIS_URL: redis.url,
    SESSION_SECRET: "test-secret-0123456789abcdef",
    INSTANCE_ID: id,
    PRESENCE_HEARTBEAT_MS: "200",
  });
  instances.push(started);
  return started;
}

async function joinedSocket(baseUrl: string, jar: Parameters<typeof rawSocket>[1], room: string) {
  const socket = rawSocket(baseUrl, jar);
  sockets.push(socket);
  await socketReady(socket);
  const joined = (await socket.emitWithAck("room:join", { room })) as Result<JoinResult>;
  assert.ok(joined.ok);
  return socket;
}

function messageTo(socket: RawSocket, filter: (m: Message) => boolean) {
  return nextEvent<Message>((fn) => onMessages(socket, fn), filter);
}

async function waitReady(target: TestInstance, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await fetch(`${target.url}/readyz`)).status !== 200) {
    if (Date.now() > deadline) throw new Error(`${target.id} not ready in ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

test("after Redis restarts, messages and typing cross instances again", async () => {
  const [a, b] = await Promise.all([instance("re-a"), instance("re-b")]);
  const room = uniqueName("r").toLowerCase();
  const ann = await registeredUser(a.url);
  const bob = await registeredUser(b.url);
  const sa = await joinedSocket(a.url, ann.jar, room);
  const sb = await joinedSocket(b.url, bob.jar, room);

  await redis.stop();
  const refused = (await sa.emitWithAck("message:send", {
    room,
    text: "while Redis is down",
    clientId: "down-1",
  })) as Result<{ message: Message }>;
  assert.equal(refused.ok ? "stored" : refused.error.code, "unavailable");
  assert.equal((await fetch(`${a.url}/readyz`)).status, 503);

  await redis.restart();
  await Promise.all([waitReady(a), waitReady(b)]);

  // The sockets stayed connected to their instances all along.
  const atB = messageTo(sb, (m) => m.text === "after the restart");
  const sent = (await sa.emitWithAck("message:send", {
    room,
    text: "after the restart",
    clientId: "up-1",
  })) as Result<{ message: Message }>;
  assert.ok(sent.ok);
  assert.equal((await atB).user, ann.name);

  const typing = nextEvent<{ user: string }>((fn) => {
    sb.on("typing", fn);
    return () => sb.off("typing", fn);
  });
  sa.emit("typing", { room });
  assert.equal((await typing).user, ann.name);
});

test("a message stored while an instance's subscription was cut reaches its sockets once the subscription is back", async () => {
  const [a, b] = await Promise.all([instance("resub-a"), instance("resub-b")]);
  const room = uniqueName("resub").toLowerCase();
  const ann = await registeredUser(a.url);
  const bob = await registeredUser(b.url);
  const sa = await joinedSocket(a.url, ann.jar, room);
  const sb = await joinedSocket(b.url, bob.jar, room);
  const atB: Message[] = [];
  onMessages(sb, (m) => atB.push(m));

  const admin = createClient({ url: redis.url });
  await admin.connect();
  try {
    // Cut the subscribers' connections and keep them from coming back: Redis
    // takes no more connections than the others still open.
    const clients = Number(/connected_clients:(\d+)/.exec(await admin.info("clients"))?.[1]);
    const subscribers = (await admin.sendCommand(["CLIENT", "LIST", "TYPE", "pubsub"]))
      ?.toString()
      .trim()
      .split("\n").length;
    assert.ok(subscribers !== undefined && subscribers >= 2);
    await admin.configSet("maxclients", String(clients - subscribers));
    await admin.sendCommand(["CLIENT", "KILL", "TYPE", "pubsub"]);

    // Stored and published while B listens to nothing: B does not hear it.
    const sent = (await sa.emitWithAck("message:send", {
      room,
      text: "while B was cut off",
      clientId: "cut-1",
    })) as Result<{ message: Message }>;
    assert.ok(sent.ok, JSON.stringify(sent));
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(atB.length, 0, "B cannot have heard it live");

    // B subscribes again: Bob sees the message without anyone sending another.
    await admin.configSet("maxclients", "10000");
    const deadline = Date.now() + 10_000;
    while (atB.length === 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.deepEqual(
      atB.map((m) => m.text),
      ["while B was cut off"],
    );
  } finally {
    await admin.configSet("maxclients", "10000").catch(() => undefined);
    await admin.close();
  }
});

test("the members of a crashed instance leave the member lists by themselves", async () => {
  const [a, b] = await Promise.all([instance("crash-a"), instance("crash-b")]);
  const room = uniqueName("r").toLowerCase();
  const ann = await registeredUser(a.url);
  const bob = await registeredUser(b.url);
  const sb = await joinedSocket(b.url, bob.jar, room);
  await joinedSocket(a.url, ann.jar, room);

  const left = nextEvent<PresenceEvent>(
    (fn) => {
      sb.on("presence", fn);
      return () => sb.off("presence", fn);
    },
    (e) => e.user === ann.name && e.state === "leave",
    5000,
  );
  const killedAt = Date.now();
  await a.stop("SIGKILL");
  await left;
  // Three missed heartbeats (600 ms) and one reaping beat of B.
  assert.ok(Date.now() - killedAt < 3000, "the leave took too long");
  const now = (await sb.emitWithAck("room:join", { room })) as Result<JoinResult>;
  assert.ok(now.ok);
  assert.deepEqual(now.members, [bob.name]);
});

test("an instance whose Redis is gone still stops on SIGTERM, instead of waiting for Redis for ever", async () => {
  const own = await TestRedis.start();
  const alone = await TestInstance.start({
    REDIS_URL: own.url,
    SESSION_SECRET: "test-secret-0123456789abcdef",
    INSTANCE_ID: "i-noredis",
    DRAIN_TIMEOUT_MS: "500",
  });
  instances.push(alone);
  try {
    // A socket in a room: stopping then has Redis work to do (its presence entry).
    const user = await registeredUser(alone.url, uniqueName("alone"));
    await joinedSocket(alone.url, user.jar, "lobby");
    await own.close();
    const exited = new Promise<number | null>((resolve) => alone.child.once("exit", resolve));
    alone.child.kill("SIGTERM");
    const outcome = await Promise.race([
      exited,
      new Promise<string>((resolve) =>
        setTimeout(() => resolve("still running after 20 s"), 20_000),
      ),
    ]);
    assert.equal(outcome, 0);
  } finally {
    await own.close();
  }
});
