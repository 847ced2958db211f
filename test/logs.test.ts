import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { createClient } from "redis";
import type { JoinResult, Result } from "../src/protocol/index.ts";
import { loadConfig } from "../src/server/config.ts";
import { configSummary, redactUrl } from "../src/server/config-summary.ts";
import { prettyLogLine } from "../src/server/logger.ts";
import { TestInstance } from "./helpers/instance.ts";
import { TestRedis } from "./helpers/redis-server.ts";
import { PASSWORD, rawSocket, registeredUser, socketReady, uniqueName } from "./helpers/users.ts";

const SESSION_SECRET = "log-test-session-secret-a1b2c3d4";
const REDIS_PASSWORD = "redis-pass-e5f6g7h8";
const METRICS_TOKEN = "log-test-metrics-token-i9j0";

let redis: TestRedis;
let instance: TestInstance;

before(async () => {
  redis = await TestRedis.start({ persistence: false });
  const admin = createClient({ url: redis.url });
  await admin.connect();
  await admin.configSet("requirepass", REDIS_PASSWORD);
  await admin.close();
  instance = await TestInstance.start({
    REDIS_URL: `redis://:${REDIS_PASSWORD}@127.0.0.1:${redis.port}`,
    SESSION_SECRET,
    METRICS_TOKEN,
    LOG_LEVEL: "info",
    INSTANCE_ID: "log-test",
  });
});

after(async () => {
  await instance?.stop("SIGKILL");
  await redis?.close();
});

type Line = Record<string, unknown> & { msg?: string };

function lines(): Line[] {
  return instance.logs
    .join("")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as Line);
}

async function waitForLine(match: (line: Line) => boolean): Promise<Line> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const found = lines().find(match);
    if (found !== undefined) return found;
    assert.ok(Date.now() < deadline, "no such log line in 5 s");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

test("start-up prints the effective configuration without its secrets", async () => {
  const line = await waitForLine((l) => l.msg === "configuration");
  const config = line.config as Record<string, unknown>;
  assert.equal(config.instanceId, "log-test");
  assert.equal(config.redisUrl, `redis://:***@127.0.0.1:${redis.port}`);
  assert.deepEqual(config.redis, { mode: "single", url: `redis://:***@127.0.0.1:${redis.port}` });
  assert.equal(config.sessionSecret, "(set)");
  assert.equal(config.metricsToken, "(set)");
  assert.equal(config.historySize, 1000);
  // Without the secrets: they are said to be missing, not shown.
  const bare = configSummary(loadConfig({}));
  assert.equal(bare.sessionSecret, "(shared random one in Redis)");
  assert.equal(redactUrl("rediss://default:pw@r.example:6380"), "rediss://***:***@r.example:6380");
  const sentinel = configSummary(
    loadConfig({
      REDIS_SENTINELS: "redis://:sentinel-pw@10.0.0.1:26379",
      REDIS_SENTINEL_MASTER: "mymaster",
    }),
  );
  assert.equal(JSON.stringify(sentinel).includes("sentinel-pw"), false, "no Sentinel password");
});

test("requests carry the load balancer's request id; socket events name the user; no secret is logged", async () => {
  const user = await registeredUser(instance.url, uniqueName("log"));
  const res = await fetch(`${instance.url}/api/session`, {
    headers: { cookie: user.jar.header() ?? "", "x-request-id": "lb-req-42" },
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("x-request-id"), "lb-req-42");
  const own = await fetch(`${instance.url}/healthz`);
  assert.match(own.headers.get("x-request-id") ?? "", /^[0-9a-f-]{36}$/, "a new id otherwise");

  const socket = rawSocket(instance.url, user.jar, ["websocket"]);
  await socketReady(socket);
  const joined = (await socket.emitWithAck("room:join", { room: "lobby" })) as Result<JoinResult>;
  assert.ok(joined.ok);
  await socket.emitWithAck("message:send", { room: "lobby", text: "hello logs", clientId: "log1" });
  socket.disconnect();

  const request = await waitForLine((l) => l.msg === "request" && l.requestId === "lb-req-42");
  assert.equal(request.path, "/api/session");
  assert.equal(request.status, 200);
  assert.equal(request.user, user.name);
  const connected = await waitForLine((l) => l.msg === "socket connected" && l.user === user.name);
  assert.equal(connected.transport, "websocket");
  const gone = await waitForLine((l) => l.msg === "socket disconnected" && l.user === user.name);
  assert.equal(gone.reason, "client namespace disconnect");

  const all = lines();
  assert.ok(
    all.every((l) => l.instance === "log-test"),
    "every line names the instance",
  );
  const text = instance.logs.join("");
  const cookie = user.jar.get("JSESSIONID");
  assert.ok(cookie);
  for (const secret of [
    SESSION_SECRET,
    REDIS_PASSWORD,
    METRICS_TOKEN,
    PASSWORD,
    cookie,
    decodeURIComponent(cookie),
  ]) {
    assert.equal(text.includes(secret), false, "a secret in the logs");
  }
});

test("in a terminal, the same lines read as text: level, message, fields; still no secret", async () => {
  await waitForLine((l) => l.msg === "configuration");
  const raw = instance.logs.join("").split("\n");
  const pretty = raw.map((line) => prettyLogLine(line, 0)).filter((l) => l !== undefined);
  assert.equal(pretty.length, lines().length, "every JSON line has a readable form");
  const config = pretty.find((l) => / INFO {2}configuration /.test(l));
  assert.ok(config, "the configuration line, as text");
  assert.match(config, /^\d\d:\d\d:\d\d INFO {2}configuration config=\{/);
  assert.doesNotMatch(config, /instance=|hostname=|pid=/, "what every line has is left out");
  const joined = pretty.join("\n");
  for (const secret of [SESSION_SECRET, REDIS_PASSWORD, METRICS_TOKEN, PASSWORD]) {
    assert.equal(joined.includes(secret), false, "a secret in the readable lines");
  }
  // The supervisor's default: warnings and up only; an error shows its message, not its stack.
  assert.equal(prettyLogLine(JSON.stringify({ level: 30, time: 0, msg: "quiet" })), undefined);
  assert.equal(prettyLogLine("not json"), undefined);
  const warn = prettyLogLine(
    JSON.stringify({
      level: 50,
      time: Date.UTC(2026, 0, 1, 12, 4, 5),
      msg: "redis lost",
      err: { type: "Error", message: "connect ECONNREFUSED", stack: "Error: at x.ts:1" },
      room: "lobby",
      note: "two words",
    }),
  );
  assert.match(
    warn ?? "",
    /^\d\d:\d\d:\d\d ERROR redis lost err="Error: connect ECONNREFUSED" room=lobby note="two words"$/,
  );
});
