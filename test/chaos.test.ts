import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { LocalChaosCluster } from "../bench/chaos/local-cluster.ts";
import { chaosTable } from "../bench/chaos/report.ts";
import { REDIS_MASTER_STEP, runChaos, type StepResult } from "../bench/chaos/run-chaos.ts";

/**
 * The short chaos run: 30 clients (a third on long-polling) chat through a
 * 3-instance cluster while it is killed, drained, scaled, restarted and loses
 * Redis; after every step each client has shown every stored message of its
 * rooms exactly once, in order, and every send reached the history once.
 */
describe("instances die, drain, scale and restart; one Redis restarts", () => {
  let cluster: LocalChaosCluster;
  let results: StepResult[] = [];

  before(async () => {
    cluster = await LocalChaosCluster.start(3);
  });

  after(async () => {
    await cluster?.close();
  });

  test("30 clients lose nothing and see nothing twice through every disruption", async (t) => {
    results = await runChaos(cluster, {
      clients: 30,
      rooms: ["chaos-a", "chaos-b", "chaos-c"],
      roomsPerClient: 2,
      pollingShare: 0.33,
      sendIntervalMs: 1000,
      chatMs: 1000,
      settleTimeoutMs: 30_000,
      instances: 3,
    });
    for (const line of chaosTable(results).split("\n")) t.diagnostic(line);
    assert.equal(results.length, 6);
    for (const r of results) {
      assert.equal(r.settled, true, `${r.step}: the clients did not settle`);
      assert.equal(r.lost, 0, `${r.step}: messages lost`);
      assert.equal(r.duplicates, 0, `${r.step}: messages shown twice`);
      assert.equal(r.undelivered, 0, `${r.step}: sends that never reached the history`);
      assert.equal(r.storedTwice, 0, `${r.step}: sends stored twice`);
      assert.equal(r.outOfOrder, 0, `${r.step}: messages shown out of order`);
      assert.equal(r.takenBack, 0, `${r.step}: messages shown, then taken back`);
    }
    const killed = results[0];
    assert.ok(killed !== undefined && killed.clientsAffected > 0, "the kill moved nobody");
    assert.ok(
      results.slice(3, 5).every((r) => r.clientsAffected === 30),
      "a restart of every instance must move every client",
    );
  });
});

/**
 * The Redis step, tiny: 8 clients chat while the Sentinel-managed master is
 * killed (`kill -9`); the replica takes over, sends to the rooms succeed
 * again, and nobody lost, saw twice, saw out of order or was shown a message
 * that the failover took back. `npm run chaos -- --redis ...` runs it big
 * and repeated.
 */
describe("a Redis master dies under chat (sentinel)", () => {
  let sentinel: LocalChaosCluster;

  before(async () => {
    sentinel = await LocalChaosCluster.start(2, {}, "sentinel");
  });

  after(async () => {
    await sentinel?.close();
  });

  test("8 clients lose nothing, and sends go through again", async (t) => {
    const [kill] = await runChaos(
      sentinel,
      {
        clients: 8,
        rooms: ["redis-a", "redis-b"],
        roomsPerClient: 2,
        pollingShare: 0.25,
        sendIntervalMs: 500,
        chatMs: 1000,
        settleTimeoutMs: 30_000,
        instances: 2,
      },
      [REDIS_MASTER_STEP],
    );
    assert.ok(kill !== undefined);
    for (const line of chaosTable([kill]).split("\n")) t.diagnostic(line);
    assert.equal(kill.settled, true, "the clients did not settle");
    assert.equal(kill.lost, 0, "messages lost");
    assert.equal(kill.duplicates, 0, "messages shown twice");
    assert.equal(kill.undelivered, 0, "sends that never reached the history");
    assert.equal(kill.storedTwice, 0, "sends stored twice");
    assert.equal(kill.outOfOrder, 0, "messages shown out of order");
    assert.equal(kill.takenBack, 0, "messages shown, then taken back");
    assert.ok(Number.isFinite(kill.redisFailoverMs), "Redis did not fail over");
    assert.ok(Number.isFinite(kill.sendsBackMs), "sends to the rooms never went through again");
  });
});
