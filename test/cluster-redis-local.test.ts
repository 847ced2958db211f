import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { loadClusterConfig } from "../src/cluster/config.ts";
import { ExternalRedis, type LocalRedis } from "../src/cluster/redis/local-topology.ts";
import { startLocalRedis } from "../src/cluster/redis/start-local-redis.ts";
import { OperationError } from "../src/cluster/supervisor.ts";
import { pidAlive, portAccepts } from "../src/process/index.ts";

/** The supervisor's Redis seam on its own, with the one redis-server (the cheap topology). */

let redis: LocalRedis | undefined;
let dataDir: string | undefined;

after(async () => {
  await redis?.stop();
  if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
});

const status = (expected: number) => (error: unknown) =>
  error instanceof OperationError && error.status === expected;

test("the single Redis: its snapshot follows a kill and a start; a stopped one refuses both", async () => {
  dataDir = await mkdtemp(join(tmpdir(), "sb-local-redis-"));
  const lines: string[] = [];
  let changes = 0;
  let adopted: LocalRedis | undefined;
  redis = await startLocalRedis({
    topology: "single",
    dataDir,
    adopt: (started) => {
      adopted = started;
    },
    events: { onChange: () => changes++, report: (line) => lines.push(line) },
  });
  assert.equal(adopted, redis, "handed over before it was ready");
  const [node] = redis.snapshot().nodes;
  assert.ok(node !== undefined && node.pid !== undefined);
  assert.deepEqual(
    { topology: redis.snapshot().topology, role: node.role, up: node.up },
    { topology: "single", role: "master", up: true },
  );
  assert.deepEqual(redis.pids(), [node.pid]);
  assert.equal(redis.env.REDIS_URL, `redis://127.0.0.1:${node.port}`);
  assert.ok("REDIS_SENTINELS" in redis.env && redis.env.REDIS_SENTINELS === undefined);

  await redis.kill(node.id);
  assert.equal(pidAlive(node.pid), false);
  assert.deepEqual(
    redis.snapshot().nodes.map((n) => [n.up, n.pid]),
    [[false, undefined]],
  );
  assert.deepEqual(redis.pids(), []);
  await assert.rejects(redis.kill(node.id), status(409));
  await assert.rejects(redis.start("redis-1"), status(404));

  const back = await redis.start(node.id);
  assert.equal(back.port, node.port);
  assert.ok(back.up && back.pid !== undefined && back.pid !== node.pid);
  assert.ok(await portAccepts(node.port));
  await assert.rejects(redis.start(node.id), status(409));
  assert.equal(changes, 2, "the state file is rewritten after the kill and after the start");
  assert.deepEqual(lines, [
    `redis     ${node.id}  killed (SIGKILL)`,
    `redis     ${node.id}  started again on port ${node.port} (pid ${back.pid})`,
  ]);

  await redis.stop();
  assert.equal(await portAccepts(node.port), false);
  await assert.rejects(redis.start(node.id), status(503));
});

test("a Redis given by REDIS_URL is described, never killed or started", async () => {
  const external = new ExternalRedis({ REDIS_URL: "redis://:secret@10.0.0.1:6379" });
  assert.equal(external.describe, "redis://:***@10.0.0.1:6379");
  assert.deepEqual(external.snapshot(), {
    topology: "external",
    describe: "redis://:***@10.0.0.1:6379",
    nodes: [],
  });
  await assert.rejects(external.kill(), status(400));
  await assert.rejects(external.start(), status(400));
});

test("a Sentinel set or a Cluster given by the environment reaches the instances as it was given", () => {
  const sentinels = "redis://127.0.0.1:26379,redis://127.0.0.1:26380";
  const config = loadClusterConfig(
    {
      REDIS_SENTINELS: sentinels,
      REDIS_SENTINEL_MASTER: "chat",
      REDIS_URL: "redis://127.0.0.1:6379",
    },
    [],
  );
  assert.ok(config.givenRedis !== undefined, "the supervisor runs no Redis of its own");
  const external = new ExternalRedis(config.givenRedis);
  assert.equal(external.env.REDIS_SENTINELS, sentinels);
  assert.equal(external.env.REDIS_SENTINEL_MASTER, "chat");
  assert.equal(external.env.REDIS_CLUSTER_NODES, undefined);
  assert.match(external.describe, /^Sentinels .*, master "chat"$/);

  const cluster = loadClusterConfig({ REDIS_CLUSTER_NODES: "redis://127.0.0.1:7000" }, []);
  assert.deepEqual(
    new ExternalRedis(cluster.givenRedis ?? {}).env.REDIS_CLUSTER_NODES,
    "redis://127.0.0.1:7000",
  );
  assert.equal(loadClusterConfig({}, []).givenRedis, undefined);
  assert.throws(
    () =>
      loadClusterConfig({ REDIS_CLUSTER_NODES: "redis://127.0.0.1:7000" }, ["--redis-sentinel"]),
    /drop one of them/,
  );
});
