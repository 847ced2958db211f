import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { CookieJar, HttpApi, SwitchboardClient } from "../src/client/core/index.ts";
import type { JoinResult, Message, PresenceEvent, Result } from "../src/protocol/index.ts";
import { TestInstance } from "./helpers/instance.ts";
import {
  type RedisMode,
  redisModes,
  startTopology,
  type TestTopology,
} from "./helpers/redis-topology.ts";
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

/**
 * The chat, end to end, on every Redis topology from the same tests: two
 * instances as processes behind no router (as behind a load balancer), on
 * one Redis, on a master with a replica behind three Sentinels, and on a
 * Redis Cluster of three masters.
 */
for (const mode of redisModes()) describe(`chat on ${mode} Redis`, () => chatSuite(mode));

function chatSuite(mode: RedisMode): void {
  let topology: TestTopology;
  let a: TestInstance;
  let b: TestInstance;
  const sockets: RawSocket[] = [];

  const env = () => ({
    ...topology.env,
    SESSION_SECRET: "test-secret-0123456789abcdef",
    PRESENCE_HEARTBEAT_MS: "200",
    SESSION_CHECK_MS: "300",
  });

  before(async () => {
    topology = await startTopology(mode);
    // One after the other: two cold starts at once on a busy 2-core machine can take 15 s.
    a = await TestInstance.start({ ...env(), INSTANCE_ID: "inst-a" });
    b = await TestInstance.start({ ...env(), INSTANCE_ID: "inst-b" });
  });

  after(async () => {
    for (const socket of sockets) socket.disconnect();
    await Promise.all([a?.stop("SIGKILL"), b?.stop("SIGKILL")]);
    await topology?.close();
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

    test("rooms (on a Cluster, on every shard) carry messages across instances, in order, each once", async () => {
      // Two senders, to stay under the per-user rate; rooms named so that a Cluster's three masters each hold some.
      const [ann, carl] = await Promise.all([registeredUser(a.url), registeredUser(a.url)]);
      const bob = await registeredUser(b.url);
      const rooms = Array.from({ length: 12 }, (_r, i) => `shard-${i}`);
      const senders = await Promise.all(
        rooms.map((_room, i) => socketFor(a.url, (i % 2 === 0 ? ann : carl).jar)),
      );
      const receivers = await Promise.all(rooms.map(() => socketFor(b.url, bob.jar)));
      await Promise.all(rooms.map((room, i) => join(senders[i] as RawSocket, room)));
      await Promise.all(rooms.map((room, i) => join(receivers[i] as RawSocket, room)));
      const got = new Map<string, number[]>();
      for (const receiver of receivers) {
        onMessages(receiver, (m) => got.set(m.room, [...(got.get(m.room) ?? []), m.offset]));
      }
      for (let n = 1; n <= 3; n++) {
        const acks = await Promise.all(
          rooms.map((room, i) => send(senders[i] as RawSocket, room, `m${n}`, `c${n}`)),
        );
        for (const ack of acks) assert.ok(ack.ok, JSON.stringify(ack));
      }
      const deadline = Date.now() + 5000;
      while (rooms.some((room) => (got.get(room)?.length ?? 0) < 3) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      for (const room of rooms) assert.deepEqual(got.get(room), [1, 2, 3], room);
      // Every master holds some of the rooms' histories (one master unless a Cluster).
      for (const port of await topology.masterPorts()) {
        const found = await Promise.all(
          rooms.map(async (room) => {
            const { stdout } = await promisify(execFile)("redis-cli", [
              "-p",
              String(port),
              "exists",
              `sb:{room:${room}}:log`,
            ]);
            return stdout.trim() === "1";
          }),
        );
        assert.ok(found.some(Boolean), `no room on the master at port ${port}`);
      }
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
}
