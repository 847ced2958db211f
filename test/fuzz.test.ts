import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { before, test } from "node:test";
import fc from "fast-check";
import WebSocket from "ws";
import { ErrorCode, type JoinResult, type Message, type Result } from "../src/protocol/index.ts";
import { instancesOnRedis } from "./helpers/fixtures.ts";
import { type RawSocket, rawSocket, registeredUser, socketReady } from "./helpers/users.ts";

/**
 * Thousands of generated payloads for every client event against a running
 * instance: each gets an answer with a known code, nothing crashes, memory
 * does not keep what it was sent, and the stored history stays intact.
 */
const RUNS_PER_EVENT = 1000;
const ROOM = "fuzz";
const KNOWN_CODES = new Set<string>(Object.values(ErrorCode));

const cluster = instancesOnRedis({ MESSAGE_RATE_PER_SECOND: "0" }, { count: 1, ids: ["fuzz"] });
let socket: RawSocket;
let jar: Awaited<ReturnType<typeof registeredUser>>["jar"];
/** Messages the server acknowledged as stored, by clientId. */
const acked = new Map<string, Message>();
let cases = 0;
let rssBeforeKb = 0;

before(async () => {
  await cluster.ready;
  ({ jar } = await registeredUser(cluster.a.url));
  socket = cluster.track(rawSocket(cluster.a.url, jar, ["websocket"]));
  await socketReady(socket);
  const joined = (await socket.emitWithAck("room:join", { room: ROOM })) as Result<JoinResult>;
  assert.ok(joined.ok);
  for (let i = 0; i < 5; i++) await sendValid(`before fuzz ${i}`);
  rssBeforeKb = await rssKb(cluster.a.child.pid ?? 0);
});

async function sendValid(text: string): Promise<void> {
  const clientId = `valid${acked.size}`;
  const result = (await socket.emitWithAck("message:send", {
    room: ROOM,
    text,
    clientId,
  })) as Result<{
    message: Message;
  }>;
  assert.ok(result.ok);
  acked.set(clientId, result.message);
}

async function rssKb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]);
}

/** Strings of every kind: unicode, lone surrogates, control characters, long ones. */
const nastyString = fc.oneof(
  fc.string(),
  fc.string({ unit: "binary", maxLength: 50 }),
  fc.string({ unit: "grapheme", maxLength: 50 }),
  fc.constantFrom(
    "",
    " ",
    "\u0000",
    "\ud800",
    "<script>alert(1)</script>",
    "lobby",
    ROOM,
    "a".repeat(3000),
  ),
);
const nastyKey = fc.oneof(
  fc.constantFrom(
    "__proto__",
    "constructor",
    "prototype",
    "room",
    "text",
    "clientId",
    "since",
    "user",
  ),
  fc.string({ maxLength: 10 }),
);
/** Values of any shape, including typed arrays (sent as binary attachments) and deep nesting. */
const anyValue = fc.anything({
  key: nastyKey,
  values: [nastyString, fc.integer(), fc.double(), fc.boolean(), fc.constant(null)],
  maxDepth: 6,
  withTypedArray: true,
  withNullPrototype: true,
  withObjectString: true,
});
const deep = fc.integer({ min: 50, max: 400 }).map((depth) => {
  let value: unknown = { room: ROOM };
  for (let i = 0; i < depth; i++) value = i % 2 === 0 ? [value] : { room: value };
  return value;
});
/** Almost-right payloads: the right keys with values of every kind. */
const nearMiss = fc.record(
  {
    room: fc.oneof(fc.constant(ROOM), nastyString, anyValue),
    text: fc.oneof(nastyString, anyValue),
    clientId: fc.oneof(
      fc.uuid().map((id) => id.replaceAll("-", "")),
      nastyString,
      anyValue,
    ),
    since: fc.oneof(
      fc.record({ epoch: nastyString, offset: fc.oneof(fc.integer(), fc.double(), anyValue) }),
      anyValue,
    ),
    before: fc.oneof(fc.integer(), fc.double(), anyValue),
    limit: fc.oneof(fc.integer(), anyValue),
    extra: fc.string({ minLength: 0, maxLength: 5000 }),
  },
  { requiredKeys: [] },
);
/** Valid sends with text of every kind: these are stored, and must come back unharmed. */
const validSend = fc.record({
  room: fc.constant(ROOM),
  text: nastyString,
  clientId: fc.uuid().map((id) => id.replaceAll("-", "")),
});
const payload = fc.oneof(anyValue, nearMiss, deep, validSend);

type Loose = { emitWithAck(event: string, ...args: unknown[]): Promise<unknown> };

function assertAnswer(reply: unknown): void {
  assert.equal(typeof reply, "object");
  const r = reply as Result<Record<string, unknown>>;
  if (r.ok) return;
  assert.ok(KNOWN_CODES.has(r.error.code), `unknown code ${r.error.code}`);
  assert.equal(typeof r.error.message, "string");
}

for (const event of ["room:join", "room:leave", "message:send", "history"]) {
  test(`${RUNS_PER_EVENT} generated payloads for ${event} each get a well-formed answer`, async () => {
    await fc.assert(
      fc.asyncProperty(payload, async (value) => {
        cases += 1;
        const reply = await (socket as unknown as Loose).emitWithAck(event, value);
        assertAnswer(reply);
        const r = reply as Result<{ message?: Message }>;
        if (event === "message:send" && r.ok && r.message !== undefined) {
          acked.set(r.message.clientId, r.message);
        }
      }),
      { numRuns: RUNS_PER_EVENT },
    );
  });
}

test("generated typing events and unknown events do not hurt the connection", async () => {
  await fc.assert(
    fc.asyncProperty(payload, fc.string({ maxLength: 30 }), async (value, name) => {
      cases += 2;
      socket.emit("typing", value as { room: string });
      const event = ["room:join", "room:leave", "message:send", "history", "typing"].includes(name)
        ? `x${name}`
        : name;
      const reply = (await (socket as unknown as Loose).emitWithAck(
        event,
        value,
      )) as Result<object>;
      assert.equal(reply.ok ? "ok" : reply.error.code, "unknown_event");
    }),
    { numRuns: RUNS_PER_EVENT },
  );
  assert.ok(socket.connected);
});

test("malformed frames close only their own connection", async () => {
  const cookie = jar.header() ?? "";
  const frames: (string | Buffer)[] = [
    Buffer.from([0xc3, 0x28, 0xff, 0xfe]),
    "42[",
    '42["room:join",{"__proto__":{"polluted":true},"room":"fuzz"}]',
    `42["message:send",${"[".repeat(5000)}${"]".repeat(5000)}]`,
    "4",
    "9999",
    '42"not an array"',
    '451-["room:join",{"_placeholder":true,"num":7}]',
  ];
  for (const frame of frames) {
    cases += 1;
    const ws = new WebSocket(
      `ws://127.0.0.1:${cluster.a.port}/socket.io/?EIO=4&transport=websocket`,
      {
        headers: { cookie },
      },
    );
    await new Promise<void>((resolve, reject) => {
      ws.once("open", resolve);
      ws.once("error", reject);
    });
    ws.send("40");
    ws.send(frame, { binary: false });
    ws.send('42["room:join",{"room":"fuzz"}]');
    await new Promise((resolve) => setTimeout(resolve, 30));
    ws.terminate();
  }
  assert.equal(cluster.a.running, true);
});

test("afterwards: the instance serves a normal client, memory is near its start, history is intact", async (t) => {
  // The process is alive and answers as before.
  assert.equal(cluster.a.running, true);
  assert.equal((await fetch(`${cluster.a.url}/readyz`)).status, 200);
  const fresh = await registeredUser(cluster.a.url);
  const other = rawSocket(cluster.a.url, fresh.jar);
  await socketReady(other);
  const joined = (await other.emitWithAck("room:join", { room: ROOM })) as Result<JoinResult>;
  assert.ok(joined.ok);

  // Every stored message, read back page by page, is well-formed, contiguous and as acknowledged.
  const stored: Message[] = [];
  for (let before = joined.offset + 1; before > 1; ) {
    const page = (await other.emitWithAck("history", {
      room: ROOM,
      before,
      limit: 100,
    })) as Result<{
      messages: Message[];
    }>;
    assert.ok(page.ok);
    if (page.messages.length === 0) break;
    stored.unshift(...page.messages);
    before = page.messages[0]?.offset ?? 0;
  }
  assert.deepEqual(
    stored.map((m) => m.offset),
    stored.map((_m, i) => i + 1),
  );
  for (const message of stored) {
    assert.equal(typeof message.text, "string");
    assert.equal(message.room, ROOM);
    const mine = acked.get(message.clientId);
    if (mine !== undefined) assert.deepEqual(message, mine);
  }
  assert.ok(stored.length >= 5);
  assert.deepEqual(
    stored.slice(0, 5).map((m) => m.text),
    [0, 1, 2, 3, 4].map((i) => `before fuzz ${i}`),
  );
  other.disconnect();

  const rss = await rssKb(cluster.a.child.pid ?? 0);
  const mb = (kb: number) => Math.round(kb / 1024);
  t.diagnostic(
    `fuzz cases: ${cases}; stored by fuzz: ${stored.length - 5}; instance RSS ${mb(rssBeforeKb)} MB before, ${mb(rss)} MB after`,
  );
  // Keeping what the payloads held (strings up to 5000 characters, nested values) would show here.
  assert.ok(rss - rssBeforeKb < 96 * 1024, `RSS grew from ${rssBeforeKb} kB to ${rss} kB`);
});
