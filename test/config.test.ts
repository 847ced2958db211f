import assert from "node:assert/strict";
import { resolve } from "node:path";
import { test } from "node:test";
import { ClusterConfigError, loadClusterConfig } from "../src/cluster/config.ts";
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

test("the settings read only to work out others stay out of the configuration (VCAP_SERVICES holds passwords)", () => {
  const config = loadConfig({
    NODE_ENV: "test",
    REDIS_URL: "redis://10.0.0.1:6379",
    VCAP_SERVICES: "{}",
    CF_INSTANCE_INDEX: "1",
  });
  for (const key of ["nodeEnv", "vcapServices", "cfInstanceIndex"]) {
    assert.equal(key in config, false, key);
  }
});

test("the supervisor: documented defaults, STOP_TIMEOUT_MS following DRAIN_TIMEOUT_MS, blank as unset", () => {
  const config = loadClusterConfig({}, []);
  assert.equal(config.port, 3000);
  assert.equal(config.instances, 3);
  assert.equal(config.redisTopology, "single");
  assert.equal(config.redisUrl, undefined);
  assert.equal(config.sessionCookieName, "JSESSIONID");
  assert.equal(config.dataDir, resolve(".data"));
  assert.equal(config.stopTimeoutMs, 15_000);
  assert.equal(loadClusterConfig({ DRAIN_TIMEOUT_MS: "2000" }, []).stopTimeoutMs, 7000);
  assert.equal(loadClusterConfig({ STOP_TIMEOUT_MS: "900" }, []).stopTimeoutMs, 900);
  // `REDIS_URL= npm start` means "no REDIS_URL", as the shell user meant.
  assert.equal(loadClusterConfig({ REDIS_URL: "", PORT: "" }, []).port, 3000);
});

test("the supervisor names every wrong setting, with the same words as an instance", () => {
  assert.throws(
    () =>
      loadClusterConfig(
        {
          PORT: "eighty",
          INSTANCES: "99",
          STOP_TIMEOUT_MS: "5",
          REDIS_URL: "localhost:6379",
          SESSION_COOKIE_NAME: "a b",
        },
        [],
      ),
    (error: unknown) =>
      error instanceof ClusterConfigError &&
      error.message.startsWith("invalid configuration:\n  - ") &&
      /PORT must be a number/.test(error.message) &&
      /INSTANCES must be at most 32/.test(error.message) &&
      /STOP_TIMEOUT_MS must be at least 100/.test(error.message) &&
      /REDIS_URL must start with redis:\/\//.test(error.message) &&
      /SESSION_COOKIE_NAME must be a plain cookie name/.test(error.message),
  );
});

test("the supervisor's Redis topology: a flag, else REDIS_TOPOLOGY; never with REDIS_URL", () => {
  assert.equal(loadClusterConfig({}, ["--redis-sentinel"]).redisTopology, "sentinel");
  assert.equal(loadClusterConfig({}, ["--redis-cluster"]).redisTopology, "cluster");
  assert.equal(loadClusterConfig({ REDIS_TOPOLOGY: "cluster" }, []).redisTopology, "cluster");
  assert.equal(
    loadClusterConfig({ REDIS_TOPOLOGY: "cluster" }, ["--redis-sentinel"]).redisTopology,
    "sentinel",
  );
  assert.throws(
    () => loadClusterConfig({ REDIS_TOPOLOGY: "raft" }, []),
    /REDIS_TOPOLOGY must be single, sentinel or cluster/,
  );
  assert.throws(
    () => loadClusterConfig({}, ["--redis-sentinel", "--redis-cluster"]),
    /choose --redis-sentinel or --redis-cluster/,
  );
  assert.throws(
    () => loadClusterConfig({}, ["--redis-sentinels"]),
    (error: unknown) =>
      error instanceof ClusterConfigError &&
      /--redis-sentinels/.test(error.message) &&
      /the options are --redis-sentinel and --redis-cluster/.test(error.message),
  );
  assert.throws(
    () => loadClusterConfig({ REDIS_URL: "redis://10.0.0.1:6379" }, ["--redis-cluster"]),
    /--redis-cluster starts a Redis of its own, and REDIS_URL names one to use/,
  );
  assert.throws(
    () => loadClusterConfig({ REDIS_URL: "redis://10.0.0.1:6379", REDIS_TOPOLOGY: "sentinel" }, []),
    /REDIS_TOPOLOGY=sentinel starts a Redis of its own/,
  );
});
