import assert from "node:assert/strict";
import { networkInterfaces } from "node:os";
import { describe, test } from "node:test";
import type { JoinResult, Message, Result } from "../src/protocol/index.ts";
import { twoInstances } from "./helpers/fixtures.ts";
import {
  nextEvent,
  onMessages,
  rawSocket,
  registeredUser,
  socketReady,
  uniqueName,
} from "./helpers/users.ts";

const TOKEN = "metrics-token-0123456789";

/** The value of one sample of a Prometheus text exposition, or undefined. */
function sample(
  text: string,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match === null || match[1] !== name) continue;
    const given = new Map(
      [...(match[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]),
    );
    if (Object.entries(labels).every(([key, value]) => given.get(key) === value)) {
      return Number(match[3]);
    }
  }
  return undefined;
}

/** The sum of every sample of a metric (all label values). */
function total(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split("\n")) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{.*\})? (\S+)$/.exec(line);
    if (match?.[1] === name) sum += Number(match[2]);
  }
  return sum;
}

/** An address of this machine other than loopback, to reach an instance as another host would. */
function outsideAddress(): string | undefined {
  for (const list of Object.values(networkInterfaces())) {
    for (const entry of list ?? []) {
      if (entry.family === "IPv4" && !entry.internal) return entry.address;
    }
  }
  return undefined;
}

async function scrape(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; text: string; type: string | null; auth: string | null }> {
  const res = await fetch(`${url}/metrics`, { headers });
  return {
    status: res.status,
    text: await res.text(),
    type: res.headers.get("content-type"),
    auth: res.headers.get("www-authenticate"),
  };
}

describe("GET /metrics", () => {
  const cluster = twoInstances(
    { MESSAGE_RATE_PER_SECOND: "1", MESSAGE_BURST: "2" },
    { ids: ["metrics-a", "metrics-b"], each: [{}, { METRICS_TOKEN: TOKEN }] },
  );

  async function joined(url: string, transports: ("polling" | "websocket")[], room: string) {
    const user = await registeredUser(url, uniqueName("m"));
    const socket = rawSocket(url, user.jar, transports);
    cluster.track(socket);
    await socketReady(socket);
    const join = (await socket.emitWithAck("room:join", { room })) as Result<JoinResult>;
    assert.ok(join.ok);
    return { user, socket, epoch: join.epoch };
  }

  test("after a short chat it counts what happened, in Prometheus' format", async () => {
    const room = uniqueName("r").toLowerCase();
    const ann = await joined(cluster.a.url, ["websocket"], room);
    const bob = await joined(cluster.a.url, ["polling"], room);
    const carl = await joined(cluster.b.url, ["websocket"], room);

    // Burst of 2: two of ann's four sends are stored, two refused.
    const acks = (await Promise.all(
      [1, 2, 3, 4].map((i) =>
        ann.socket.emitWithAck("message:send", { room, text: `a${i}`, clientId: `a${i}` }),
      ),
    )) as Result<{ message: Message }>[];
    assert.deepEqual(acks.map((ack) => (ack.ok ? "ok" : ack.error.code)).sort(), [
      "ok",
      "ok",
      "rate_limited",
      "rate_limited",
    ]);
    const fromCarl = nextEvent<Message>(
      (fn) => onMessages(bob.socket, fn),
      (m) => m.text === "c1",
    );
    assert.ok(
      (
        (await carl.socket.emitWithAck("message:send", {
          room,
          text: "c1",
          clientId: "c1",
        })) as Result<unknown>
      ).ok,
    );
    await fromCarl;

    // A rejoin that recovers, and one from an epoch the room never had.
    const back = (await bob.socket.emitWithAck("room:join", {
      room,
      since: { epoch: ann.epoch, offset: 1 },
    })) as Result<JoinResult>;
    assert.ok(back.ok && back.recovered);
    const lost = (await bob.socket.emitWithAck("room:join", {
      room,
      since: { epoch: "another-epoch", offset: 1 },
    })) as Result<JoinResult>;
    assert.ok(lost.ok && !lost.recovered);
    // The handshake's rejoin counts too.
    const again = rawSocket(
      cluster.a.url,
      ann.user.jar,
      ["websocket"],
      {},
      {
        rooms: [{ room, since: { epoch: ann.epoch, offset: 2 } }],
      },
    );
    cluster.track(again);
    await socketReady(again);
    again.disconnect();

    const { status, text, type } = await scrape(cluster.a.url);
    assert.equal(status, 200);
    assert.match(type ?? "", /^text\/plain; version=0\.0\.4/);
    assert.equal(sample(text, "switchboard_sockets", { transport: "websocket" }), 1);
    assert.equal(sample(text, "switchboard_sockets", { transport: "polling" }), 1);
    assert.equal(total(text, "switchboard_socket_connects_total"), 3);
    assert.equal(
      sample(text, "switchboard_socket_disconnects_total", {
        reason: "client namespace disconnect",
      }),
      1,
    );
    assert.equal(sample(text, "switchboard_messages_stored_total"), 2);
    // ann's two and carl's one, each to ann's and bob's sockets on A.
    assert.equal(sample(text, "switchboard_messages_delivered_total"), 6);
    assert.equal(sample(text, "switchboard_send_ack_duration_seconds_count", { outcome: "ok" }), 2);
    assert.equal(
      sample(text, "switchboard_send_ack_duration_seconds_count", { outcome: "rate_limited" }),
      2,
    );
    assert.equal(sample(text, "switchboard_rate_limited_total", { kind: "message" }), 2);
    assert.equal(sample(text, "switchboard_recoveries_total", { outcome: "recovered" }), 2);
    assert.equal(sample(text, "switchboard_recoveries_total", { outcome: "fell_back" }), 1);
    assert.ok((sample(text, "switchboard_redis_ping_duration_seconds_count") ?? 0) >= 1);
    assert.ok((sample(text, "switchboard_process_resident_memory_bytes") ?? 0) > 10_000_000);
    assert.ok((sample(text, "switchboard_nodejs_heap_size_used_bytes") ?? 0) > 1_000_000);
    assert.ok(sample(text, "switchboard_nodejs_eventloop_lag_seconds") !== undefined);

    const onB = await scrape(cluster.b.url);
    assert.equal(sample(onB.text, "switchboard_messages_stored_total"), 1);
    assert.equal(sample(onB.text, "switchboard_messages_delivered_total"), 3, "3 messages to carl");
  });

  test("login attempts over the limit count as auth refusals", async () => {
    // 60 attempts per address per minute: the 61st is refused. The address is
    // one of its own (the instance trusts X-Forwarded-For from loopback), so
    // that the other tests' logins from 127.0.0.1 are not refused.
    let refused = 0;
    for (let i = 0; i < 62; i++) {
      const res = await fetch(`${cluster.b.url}/api/login`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-forwarded-for": "198.51.100.7" },
        body: JSON.stringify({ username: "nobody_here", password: "wrong password" }),
      });
      if (res.status === 429) refused++;
    }
    assert.ok(refused >= 1);
    const { text } = await scrape(cluster.b.url);
    assert.equal(sample(text, "switchboard_rate_limited_total", { kind: "auth" }), refused);
  });

  test("only this machine gets metrics, unless METRICS_TOKEN opens them", async () => {
    assert.equal((await scrape(cluster.a.url)).status, 200, "loopback, direct");
    const proxied = await scrape(cluster.a.url, { "x-forwarded-for": "203.0.113.9" });
    assert.equal(proxied.status, 401, "through a proxy on this machine");
    assert.equal(JSON.parse(proxied.text).error.code, "unauthorized");
    assert.equal(
      (
        await scrape(cluster.b.url, {
          authorization: `Bearer ${TOKEN}`,
          "x-forwarded-for": "203.0.113.9",
        })
      ).status,
      200,
    );
    const wrong = await scrape(cluster.b.url, {
      authorization: "Bearer not-the-token-at-all",
      "x-forwarded-for": "203.0.113.9",
    });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.auth, 'Bearer realm="metrics"');
    assert.equal(wrong.text.includes("switchboard_"), false);

    const outside = outsideAddress();
    if (outside !== undefined) {
      assert.equal(
        (await scrape(`http://${outside}:${cluster.a.port}`)).status,
        401,
        "from another host",
      );
      assert.equal(
        (await scrape(`http://${outside}:${cluster.b.port}`, { authorization: `Bearer ${TOKEN}` }))
          .status,
        200,
        "from another host, with the token",
      );
    }
  });

  test("Redis going away shows as connection errors, reconnects and failed commands", async () => {
    const room = uniqueName("r").toLowerCase();
    const dan = await joined(cluster.a.url, ["websocket"], room);
    await cluster.redis.stop();
    const refused = (await dan.socket.emitWithAck("message:send", {
      room,
      text: "while Redis is down",
      clientId: "down1",
    })) as Result<unknown>;
    assert.equal(refused.ok, false);
    const deadline = Date.now() + 10_000;
    let text = "";
    while (Date.now() < deadline) {
      text = (await scrape(cluster.a.url)).text;
      if (total(text, "switchboard_redis_reconnects_total") > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.ok(total(text, "switchboard_redis_reconnects_total") > 0, "reconnects counted");
    assert.ok(total(text, "switchboard_redis_connection_errors_total") > 0, "errors counted");
    assert.ok(total(text, "switchboard_redis_command_errors_total") > 0, "failed commands counted");
    assert.ok(
      sample(text, "switchboard_send_ack_duration_seconds_count", { outcome: "unavailable" }) === 1,
    );
  });
});
