import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ConfigError, loadConfig } from "../src/server/config.ts";

/**
 * VCAP_SERVICES as Cloud Foundry's common Redis brokers write it (field for
 * field as their bindings show them; hosts, guids and passwords made up), and
 * the Redis URL the instance takes from each.
 */
const postgres = {
  label: "elephantsql",
  name: "chat-db",
  plan: "turtle",
  tags: ["Data Stores", "postgresql"],
  credentials: { uri: "postgres://u:p@db.example.com:5432/u" },
};

const pRedisOnDemand = {
  binding_guid: "0b5f6c4e-7a55-4c9e-9d3c-7d7d1a2b3c4d",
  binding_name: null,
  credentials: {
    host: "q-s0.redis-instance.services.service-instance-5a1b.bosh",
    password: "Xk8/pq+z=",
    port: 6379,
  },
  instance_guid: "5a1b7c8d-0e1f-4a2b-8c3d-4e5f6a7b8c9d",
  instance_name: "chat-redis",
  label: "p.redis",
  name: "chat-redis",
  plan: "on-demand-cache",
  provider: null,
  syslog_drain_url: null,
  tags: ["redis", "pivotal", "on-demand"],
  volume_mounts: [],
};

const pRedisOnDemandTls = {
  ...pRedisOnDemand,
  credentials: {
    host: "q-s0.redis-instance.services.service-instance-5a1b.bosh",
    password: "Xk8/pq+z=",
    port: 6379,
    tls_port: 16379,
    tls_versions: ["tlsv1.2", "tlsv1.3"],
  },
};

const pRedisShared = {
  credentials: { host: "10.0.8.12", password: "cbd2c6a4e5", port: 46543 },
  label: "p-redis",
  name: "redis-shared",
  plan: "shared-vm",
  provider: null,
  syslog_drain_url: null,
  tags: ["pivotal", "redis"],
  volume_mounts: [],
};

const redisCloud = {
  credentials: {
    hostname: "redis-12345.c10.us-east-1-3.ec2.cloud.redislabs.com",
    password: "rcPASS",
    port: "12345",
  },
  label: "rediscloud",
  name: "my-rediscloud",
  plan: "30mb",
  provider: null,
  syslog_drain_url: null,
  tags: ["Data Stores", "Caching", "key-value", "caching", "redis"],
  volume_mounts: [],
};

const userProvided = (uri: string) => ({
  binding_name: null,
  credentials: { uri },
  instance_name: "ext-redis",
  label: "user-provided",
  name: "ext-redis",
  syslog_drain_url: "",
  tags: [],
  volume_mounts: [],
});

const redisUrl = (services: Record<string, unknown[]>) =>
  loadConfig({ VCAP_SERVICES: JSON.stringify(services) }).redisUrl;

describe("the Redis of a Cloud Foundry binding", () => {
  test("p.redis (on-demand): host, port and password, next to a database", () => {
    assert.equal(
      redisUrl({ elephantsql: [postgres], "p.redis": [pRedisOnDemand] }),
      "redis://:Xk8%2Fpq%2Bz%3D@q-s0.redis-instance.services.service-instance-5a1b.bosh:6379",
    );
  });

  test("p.redis with TLS on: the TLS port, over rediss://", () => {
    assert.equal(
      redisUrl({ "p.redis": [pRedisOnDemandTls] }),
      "rediss://:Xk8%2Fpq%2Bz%3D@q-s0.redis-instance.services.service-instance-5a1b.bosh:16379",
    );
  });

  test("p-redis (shared VM)", () => {
    assert.equal(redisUrl({ "p-redis": [pRedisShared] }), "redis://:cbd2c6a4e5@10.0.8.12:46543");
  });

  test("rediscloud: hostname and a port given as a string; old plans' host; a tls_port", () => {
    assert.equal(
      redisUrl({ rediscloud: [redisCloud] }),
      "redis://:rcPASS@redis-12345.c10.us-east-1-3.ec2.cloud.redislabs.com:12345",
    );
    const old = { ...redisCloud, credentials: { host: "pub-redis-1.example.com", port: 6000 } };
    assert.equal(redisUrl({ rediscloud: [old] }), "redis://pub-redis-1.example.com:6000");
    const tls = { ...redisCloud, credentials: { ...redisCloud.credentials, tls_port: "12346" } };
    assert.equal(
      redisUrl({ rediscloud: [tls] }),
      "rediss://:rcPASS@redis-12345.c10.us-east-1-3.ec2.cloud.redislabs.com:12346",
    );
  });

  test("a user-provided service with no tags, found by its uri's scheme, TLS kept", () => {
    const uri = "rediss://default:s3cret@redis.example.com:6380";
    assert.equal(redisUrl({ elephantsql: [postgres], "user-provided": [userProvided(uri)] }), uri);
    assert.equal(
      redisUrl({ "user-provided": [userProvided("redis://10.1.2.3:6379/2")] }),
      "redis://10.1.2.3:6379/2",
    );
  });

  test("REDIS_URL wins over a binding; so does REDIS_CLUSTER_NODES", () => {
    const vcap = JSON.stringify({ "p.redis": [pRedisOnDemand] });
    assert.equal(
      loadConfig({ REDIS_URL: "redis://given:1", VCAP_SERVICES: vcap }).redisUrl,
      "redis://given:1",
    );
    const cluster = loadConfig({
      REDIS_CLUSTER_NODES: "redis://10.0.0.1:7000",
      VCAP_SERVICES: JSON.stringify({}),
    });
    assert.deepEqual(cluster.redisClusterNodes, ["redis://10.0.0.1:7000"]);
  });

  test("no Redis bound, a Redis without a server, or broken JSON stop the start with what to fix", () => {
    const fails = (raw: string, message: RegExp) =>
      assert.throws(
        () => loadConfig({ VCAP_SERVICES: raw }),
        (error: unknown) => error instanceof ConfigError && message.test(error.message),
      );
    fails(JSON.stringify({ elephantsql: [postgres] }), /names no Redis service: bind one/);
    fails("{}", /names no Redis service/);
    fails(
      JSON.stringify({ "p.redis": [{ ...pRedisOnDemand, credentials: {} }] }),
      /the Redis service chat-redis has no host or redis:\/\/ uri/,
    );
    fails("{not json", /VCAP_SERVICES is not valid JSON/);
    fails("[1,2]", /must be a JSON object/);
  });

  test("services of unexpected shapes are skipped, not fatal", () => {
    assert.equal(
      redisUrl({
        weird: [null, 3, "x", { tags: "redis", credentials: "none" }],
        other: [{ label: 7, credentials: { password: 12 } }],
        "p-redis": [pRedisShared],
      }),
      "redis://:cbd2c6a4e5@10.0.8.12:46543",
    );
  });

  test("the instance index names the instance", () => {
    const config = loadConfig({
      CF_INSTANCE_INDEX: "2",
      VCAP_SERVICES: JSON.stringify({ "p.redis": [pRedisOnDemand] }),
    });
    assert.match(config.instanceId, /^cf-2-[0-9a-f]{6}$/);
  });
});
