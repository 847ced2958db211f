import assert from "node:assert/strict";
import { test } from "node:test";
import { CookieJar, HttpApi } from "../src/client/core/index.ts";
import type { JoinResult, Message, Result } from "../src/protocol/index.ts";
import { Keys } from "../src/server/store/keys.ts";
import { twoInstances } from "./helpers/fixtures.ts";
import {
  PASSWORD,
  type RawSocket,
  rawSocket,
  registeredUser,
  socketReady,
  uniqueName,
} from "./helpers/users.ts";

/**
 * Every byte Redis keeps has a bound: each key either expires or is capped by
 * design (one per room, per account, trimmed to the history). Checked by
 * scanning a Redis after people have used the chat.
 */
const keys = new Keys("sb");
const HISTORY = 20;
const SESSION_TTL = 3600;
const cluster = twoInstances(
  {
    SESSION_TTL_SECONDS: String(SESSION_TTL),
    HISTORY_SIZE: String(HISTORY),
    // The bucket key is made, and lives (burst / rate) 100 s; the limit stays out of the way.
    MESSAGE_RATE_PER_SECOND: "10",
    MESSAGE_BURST: "1000",
    AUTH_FAILURES_BEFORE_LOCK: "2",
    PRESENCE_HEARTBEAT_MS: "200",
  },
  { ids: ["kb-a", "kb-b"], db: true },
);

async function allKeys(match = "*"): Promise<string[]> {
  const found: string[] = [];
  for await (const batch of cluster.db.scanIterator({ MATCH: match, COUNT: 1000 }))
    found.push(...batch);
  return found.sort();
}

async function connected(url: string, jar: CookieJar): Promise<RawSocket> {
  const socket = rawSocket(url, jar, ["websocket"]);
  cluster.track(socket);
  await socketReady(socket);
  return socket;
}

test("people who never log in leave no key in Redis", async () => {
  const before = await allKeys();
  for (const target of cluster.instances) {
    await (await fetch(`${target.url}/`)).arrayBuffer();
    await (await fetch(`${target.url}/healthz`)).arrayBuffer();
    assert.equal(await new HttpApi(target.url, new CookieJar()).session(), undefined);
    // A cookie that is not a session of ours, and a logout without a login.
    const jar = new CookieJar();
    jar.set("JSESSIONID", "s:forged.signature");
    assert.equal(await new HttpApi(target.url, jar).session(), undefined);
    await new HttpApi(target.url, new CookieJar()).logout();
    const socket = rawSocket(target.url, jar);
    cluster.track(socket);
    await assert.rejects(socketReady(socket), { message: "unauthorized" });
  }
  assert.deepEqual(await allKeys(), before);
});

test("each login stores one session, with a TTL; logging in again replaces it, logging out removes it", async () => {
  const sessionsOf = async () => allKeys(`${keys.sessionPrefix}*`);
  const start = await sessionsOf();
  const ann = await registeredUser(cluster.a.url);
  const afterRegister = await sessionsOf();
  assert.equal(afterRegister.length, start.length + 1, "registering logs in: one session");
  const [mine] = afterRegister.filter((key) => !start.includes(key));
  assert.ok(mine !== undefined);
  const ttl = await cluster.db.ttl(mine);
  assert.ok(ttl > 0 && ttl <= SESSION_TTL, `session TTL ${ttl} s`);

  await ann.http.login(ann.name, PASSWORD);
  const relogged = await sessionsOf();
  assert.equal(relogged.length, start.length + 1, "a new login replaces the session, not adds one");
  assert.ok(!relogged.includes(mine), "the old session id is gone");

  const elsewhere = new HttpApi(cluster.b.url, new CookieJar());
  await elsewhere.login(ann.name, PASSWORD);
  assert.equal((await sessionsOf()).length, start.length + 2, "a second browser: a second session");
  for (const key of await sessionsOf())
    assert.ok((await cluster.db.ttl(key)) > 0, `${key} has a TTL`);

  await ann.http.logout();
  await elsewhere.logout();
  assert.deepEqual(await sessionsOf(), start);
});

test("after chatting, joining, leaving, logging in and out, every key has a TTL or a cap", async () => {
  const left = uniqueName("r").toLowerCase();
  const rooms = [left, uniqueName("r").toLowerCase()];
  const people = await Promise.all([registeredUser(cluster.a.url), registeredUser(cluster.b.url)]);
  for (const [i, person] of people.entries()) {
    const socket = await connected(i === 0 ? cluster.a.url : cluster.b.url, person.jar);
    for (const room of rooms) {
      const joined = (await socket.emitWithAck("room:join", { room })) as Result<JoinResult>;
      assert.ok(joined.ok);
      let offset = joined.offset;
      for (let n = 0; n < 80; n += 1) {
        const sent = (await socket.emitWithAck("message:send", {
          room,
          text: `${person.name} ${n}`,
          clientId: `${person.name}-${room}-${n}`,
          since: { epoch: joined.epoch, offset },
        })) as Result<{ message: Message }>;
        assert.ok(sent.ok, JSON.stringify(sent));
        offset = sent.message.offset;
      }
      socket.emit("typing", { room });
    }
    assert.ok(((await socket.emitWithAck("room:leave", { room: left })) as Result<object>).ok);
    socket.disconnect();
  }
  // Wrong passwords: the failure counter and the lock on the name.
  for (let n = 0; n < 3; n += 1) {
    await assert.rejects(
      new HttpApi(cluster.a.url, new CookieJar()).login(people[0]?.name ?? "", "wrong password"),
    );
  }
  await people[1]?.http.logout();
  await people[0]?.http.login(people[0].name, PASSWORD).catch(() => undefined);

  const found = await allKeys();
  const unbounded: string[] = [];
  const seen = new Set<string>();
  for (const key of found) {
    const bound = keys.boundOf(key);
    seen.add(bound === undefined ? "none" : bound.kind);
    if (bound === undefined) {
      unbounded.push(`${key}: no bound in the key table`);
      continue;
    }
    // -2: it expired since the scan, so it had a TTL; -1: it has none.
    const ttl = await cluster.db.pTTL(key);
    if (bound.kind === "ttl" && ttl === -1) unbounded.push(`${key}: should expire, has no TTL`);
  }
  assert.deepEqual(unbounded, []);
  assert.deepEqual([...seen].sort(), ["cap", "ttl"], "both kinds were exercised");

  // The capped ones stay capped: each room keeps about HISTORY_SIZE messages and clientIds.
  for (const room of rooms) {
    const k = keys.room(room);
    const kept = await cluster.db.xLen(k.log);
    assert.ok(kept >= HISTORY && kept < 160, `${room} keeps ${kept} of 160`);
    assert.equal(await cluster.db.zCard(k.dedup), kept);
  }
  // (The lock on a name lasts a second at first: whether the scan still saw it depends on the pace.)
  const expected = ["sb:rl:auth-fail:", "sb:rl:auth-ip:", "sb:rl:msg:", "sb:sess:", "sb:user:"];
  for (const prefix of expected) {
    assert.ok(
      found.some((key) => key.startsWith(prefix)),
      `the run made a ${prefix}* key to check`,
    );
  }
});
