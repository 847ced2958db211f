import assert from "node:assert/strict";
import { test } from "node:test";
import { ConfigError, loadConfig } from "../src/server/config.ts";

test("defaults are the documented ones", () => {
  const config = loadConfig({});
  assert.equal(config.port, 3000);
  assert.equal(config.redisUrl, "redis://127.0.0.1:6379");
  assert.equal(config.sessionCookieName, "JSESSIONID");
  assert.equal(config.maxMessageLength, 2000);
  assert.equal(config.historySize, 1000);
  assert.equal(config.messageRatePerSecond, 10);
  assert.equal(config.messageBurst, 20);
  assert.match(config.instanceId, /^i-[0-9a-f]{6}$/);
  assert.deepEqual(config.allowedOrigins, []);
  assert.deepEqual(config.redisClusterNodes, []);
});

test("every wrong setting is named in one clear error", () => {
  assert.throws(
    () => loadConfig({ PORT: "eighty", MAX_MESSAGE_LENGTH: "0", REDIS_URL: "localhost:6379" }),
    (error: unknown) =>
      error instanceof ConfigError &&
      /PORT must be a number/.test(error.message) &&
      /MAX_MESSAGE_LENGTH must be at least 1/.test(error.message) &&
      /REDIS_URL must start with redis:\/\//.test(error.message),
  );
});

test("production needs a session secret", () => {
  assert.throws(() => loadConfig({ NODE_ENV: "production" }), /SESSION_SECRET is required/);
  assert.equal(
    loadConfig({ NODE_ENV: "production", SESSION_SECRET: "s".repeat(32) }).production,
    true,
  );
});

test("on Cloud Foundry: the instance index and a bound Redis service are read", () => {
  const config = loadConfig({
    CF_INSTANCE_INDEX: "2",
    VCAP_SERVICES: JSON.stringify({
      "p.redis": [
        { label: "p.redis", credentials: { host: "10.0.0.5", port: 6380, password: "p@ss" } },
      ],
    }),
  });
  assert.match(config.instanceId, /^cf-2-[0-9a-f]{6}$/);
  assert.equal(config.redisUrl, "redis://:p%40ss@10.0.0.5:6380");
  assert.equal(
    loadConfig({ REDIS_URL: "redis://given:1", VCAP_SERVICES: "{}" }).redisUrl,
    "redis://given:1",
  );
  assert.throws(
    () => loadConfig({ VCAP_SERVICES: "{not json" }),
    /VCAP_SERVICES is not valid JSON/,
  );
});

test("lists and proxy settings are parsed", () => {
  const config = loadConfig({
    ALLOWED_ORIGINS: "https://chat.example, http://localhost:3000",
    TRUST_PROXY: "2",
  });
  assert.deepEqual(config.allowedOrigins, ["https://chat.example", "http://localhost:3000"]);
  assert.equal(config.trustProxy, 2);
  assert.equal(loadConfig({ TRUST_PROXY: "true" }).trustProxy, true);
  assert.throws(() => loadConfig({ ALLOWED_ORIGINS: "chat.example" }), /ALLOWED_ORIGINS/);
});

test("Redis topology: Sentinels, then a Cluster, then one Redis; half or double settings are refused", () => {
  assert.deepEqual(loadConfig({}).redis, { mode: "single", url: "redis://127.0.0.1:6379" });
  assert.deepEqual(
    loadConfig({
      REDIS_URL: "redis://ignored:1",
      REDIS_SENTINELS: "redis://10.0.0.1:26379, redis://10.0.0.2:26379",
      REDIS_SENTINEL_MASTER: "chat",
    }).redis,
    {
      mode: "sentinel",
      sentinels: ["redis://10.0.0.1:26379", "redis://10.0.0.2:26379"],
      masterName: "chat",
    },
  );
  assert.deepEqual(loadConfig({ REDIS_CLUSTER_NODES: "redis://10.0.0.1:7000" }).redis, {
    mode: "cluster",
    nodes: ["redis://10.0.0.1:7000"],
  });
  assert.throws(
    () => loadConfig({ REDIS_SENTINELS: "redis://10.0.0.1:26379" }),
    /REDIS_SENTINEL_MASTER is required with REDIS_SENTINELS/,
  );
  assert.throws(() => loadConfig({ REDIS_SENTINEL_MASTER: "chat" }), /needs REDIS_SENTINELS/);
  assert.throws(
    () =>
      loadConfig({
        REDIS_SENTINELS: "redis://10.0.0.1:26379",
        REDIS_SENTINEL_MASTER: "chat",
        REDIS_CLUSTER_NODES: "redis://10.0.0.1:7000",
      }),
    /not both/,
  );
  assert.throws(() => loadConfig({ REDIS_SENTINELS: "10.0.0.1:26379" }), /REDIS_SENTINELS must be/);
  assert.throws(() => loadConfig({ REDIS_REPLICA_ACK: "yes" }), /REDIS_REPLICA_ACK must be/);
  assert.equal(loadConfig({}).replicaAck, "auto");
});
