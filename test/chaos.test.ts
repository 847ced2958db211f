import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { LocalChaosCluster } from "../bench/chaos/local-cluster.ts";
import { chaosTable } from "../bench/chaos/report.ts";
import { runChaos, type StepResult } from "../bench/chaos/run-chaos.ts";

/**
 * The short chaos run: 30 clients (a third on long-polling) chat through a
 * 3-instance cluster while it is killed, drained, scaled, restarted and loses
 * Redis; after every step each client has shown every stored message of its
 * rooms exactly once, in order, and every send reached the history once.
 */
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
    chatMs: 1500,
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
  }
  const killed = results[0];
  assert.ok(killed !== undefined && killed.clientsAffected > 0, "the kill moved nobody");
  assert.ok(
    results.slice(3, 5).every((r) => r.clientsAffected === 30),
    "a restart of every instance must move every client",
  );
});
