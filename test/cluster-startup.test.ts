import assert from "node:assert/strict";
import { mkdtemp, rm, symlink } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { createClient } from "redis";
import { portOpen, TestCluster } from "./helpers/cluster.ts";
import { TestRedis } from "./helpers/redis-server.ts";
import { registeredUser } from "./helpers/users.ts";

describe("npm start with REDIS_URL", () => {
  let redis: TestRedis | undefined;
  let cluster: TestCluster | undefined;

  after(async () => {
    await cluster?.stop();
    await redis?.close();
  });

  test("uses the given Redis, runs no redis-server of its own, and leaves that Redis running", async () => {
    redis = await TestRedis.start({ persistence: false });
    cluster = await TestCluster.start({ instances: 2, env: { REDIS_URL: redis.url } });
    assert.match(cluster.output, new RegExp(`^redis\\s+using REDIS_URL ${redis.url}`, "m"));
    assert.equal((await cluster.running()).length, 2);
    const pids = cluster.statePids();
    assert.equal(pids.length, 2, "only the instances, no redis-server");

    const user = await registeredUser(cluster.url);
    assert.ok(user.jar.get("__VCAP_ID__"));
    const client = createClient({ url: redis.url });
    await client.connect();
    try {
      assert.ok((await client.dbSize()) > 0, "the instances keep their data in the given Redis");
    } finally {
      await client.close();
    }

    // The admin API shows the given Redis, and will not kill what is not the supervisor's.
    assert.deepEqual(await cluster.redis(), {
      topology: "external",
      describe: redis.url,
      nodes: [],
    });
    const kill = await fetch(`${cluster.url}/_cluster/redis/redis-${redis.port}/kill`, {
      method: "POST",
    });
    assert.equal(kill.status, 400);
    assert.deepEqual(
      ((await kill.json()) as { error: { code: string } }).error.code,
      "invalid_input",
    );

    assert.deepEqual(await cluster.stop(), []);
    assert.equal(cluster.exit?.code, 0);
    assert.ok(await portOpen(redis.port), "the given Redis is not the supervisor's to stop");
  });
});

describe("npm start when a part cannot start", () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  test("with neither REDIS_URL nor redis-server on PATH it says how to install Redis", async () => {
    const bin = await mkdtemp(join(tmpdir(), "sb-path-"));
    cleanups.push(() => rm(bin, { recursive: true, force: true }));
    await symlink(process.execPath, join(bin, "node"));
    const cluster = await TestCluster.spawn({ env: { PATH: bin, REDIS_URL: "" } });
    cleanups.push(() => cluster.stop());
    assert.equal(await cluster.exitCode(), 1);
    assert.match(cluster.output, /sudo apt-get install redis-server/);
    assert.match(cluster.output, /brew install redis/);
    assert.match(cluster.output, /REDIS_URL=redis:\/\//);
    assert.doesNotMatch(cluster.output, /^instance/m, "nothing was started");
  });

  test("when the router's port is taken it says so before starting anything", async () => {
    const squatter: Server = createServer();
    await new Promise<void>((resolve) => squatter.listen(0, resolve));
    cleanups.push(() => new Promise((resolve) => squatter.close(resolve)));
    const address = squatter.address();
    assert.ok(address !== null && typeof address === "object");
    const cluster = await TestCluster.spawn({ env: { PORT: String(address.port) } });
    cleanups.push(() => cluster.stop());
    assert.equal(await cluster.exitCode(), 1);
    assert.match(cluster.output, new RegExp(`port ${address.port} is not available: EADDRINUSE`));
    assert.deepEqual(cluster.printedPids(), [], "nothing was started");
  });

  test("when an instance cannot start it stops Redis and the other instances and exits 1", async () => {
    const cluster = await TestCluster.spawn({
      instances: 2,
      env: { INSTANCE_ENTRY: "test/helpers/no-such-instance.ts", START_TIMEOUT_MS: "20000" },
    });
    cleanups.push(() => cluster.stop());
    assert.equal(await cluster.exitCode(60_000), 1);
    assert.match(cluster.output, /could not start: instance i-[0-9a-f]{6} exited while starting/);
    assert.match(cluster.output, /no-such-instance/, "the instance's own output is shown");
    assert.equal(cluster.printedPids().length, 1, "Redis had started");
    assert.deepEqual(await cluster.stop(), [], "and the supervisor stopped it itself");
  });
});
