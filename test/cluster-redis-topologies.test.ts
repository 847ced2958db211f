import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import type { SwitchboardClient } from "../src/client/core/index.ts";
import type { RedisNodeInfo, RedisStats } from "../src/cluster/admin-contract.ts";
import { pidAlive } from "../src/process/index.ts";
import { portOpen, TestCluster } from "./helpers/cluster.ts";
import { connectedClient, registeredUser } from "./helpers/users.ts";

/**
 * `npm start -- --redis-sentinel` and `-- --redis-cluster`, as a person runs
 * them: chat crosses instances, the admin API shows each node's role, a
 * master killed from the admin API is replaced by its replica (as the
 * dashboard, polling, would show it), the killed node comes back as a
 * replica, and stopping the cluster leaves no Redis behind. Two instances
 * only: each run starts five or six redis-servers on a 2-core machine.
 */

async function until<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    last = await check();
    if (last !== undefined) return last;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

const roles = (stats: RedisStats) => stats.nodes.map((n) => n.role).sort();
const node = (stats: RedisStats, id: string) => stats.nodes.find((n) => n.id === id);

const topologies = [
  {
    flag: "--redis-sentinel",
    banner: /^redis\s+Sentinel: master "switchboard" with 1 replica, watched by 3 Sentinels/m,
    roles: ["master", "replica", "sentinel", "sentinel", "sentinel"],
  },
  {
    flag: "--redis-cluster",
    banner: /^redis\s+Cluster: 3 masters, 3 replicas/m,
    roles: ["master", "master", "master", "replica", "replica", "replica"],
  },
] as const;

for (const topology of topologies) {
  describe(`npm start -- ${topology.flag}`, () => {
    let cluster: TestCluster | undefined;
    const clients: SwitchboardClient[] = [];

    after(async () => {
      for (const client of clients) client.close();
      await cluster?.stop();
    });

    test("chat crosses instances; a killed master's replica takes over; nothing is left after", async () => {
      cluster = await TestCluster.start({
        instances: 2,
        args: [topology.flag],
        readyTimeoutMs: 90_000,
      });
      assert.match(cluster.output, topology.banner);

      const before = await cluster.redis();
      assert.equal(before.topology, topology.flag === "--redis-sentinel" ? "sentinel" : "cluster");
      assert.deepEqual(roles(before), topology.roles);
      assert.ok(before.nodes.every((n) => n.up && n.pid !== undefined));
      const ports = new Set(before.nodes.map((n) => n.port));
      for (const replica of before.nodes.filter((n) => n.role === "replica")) {
        const followed = before.nodes.find((n) => n.port === replica.masterPort);
        assert.equal(followed?.role, "master", `${replica.id} follows a master`);
      }

      // One user on each instance, straight to its port: the message can only cross through Redis.
      const [a, b] = await cluster.running();
      assert.ok(a !== undefined && b !== undefined);
      const alice = await registeredUser(`http://127.0.0.1:${a.port}`);
      const bob = await registeredUser(`http://127.0.0.1:${b.port}`);
      const onA = await connectedClient(`http://127.0.0.1:${a.port}`, alice.http);
      const onB = await connectedClient(`http://127.0.0.1:${b.port}`, bob.http);
      clients.push(onA, onB);
      const text = `across ${topology.flag}`;
      onA.send("lobby", text);
      await until(
        "bob sees alice's message",
        async () => onB.rooms.get("lobby")?.messages.find((m) => m.text === text),
        10_000,
      );

      // The master a replica follows, killed as a crash; the dashboard's view is polled.
      const victim = before.nodes.find((n) => n.role === "master");
      const heir = before.nodes.find((n) => n.masterPort === victim?.port);
      assert.ok(victim !== undefined && heir !== undefined);
      const killed = (await cluster.admin("POST", `/redis/${victim.id}/kill`)) as RedisNodeInfo;
      assert.equal(killed.up, false);
      assert.equal(victim.pid !== undefined && pidAlive(victim.pid), false, "the process is gone");
      await until(
        `${heir.id} says it is master`,
        async () => {
          const now = await cluster?.redis();
          return now !== undefined && node(now, heir.id)?.role === "master" ? now : undefined;
        },
        30_000,
      );
      await assert.rejects(cluster.admin("POST", `/redis/${victim.id}/kill`), /409/);
      await assert.rejects(cluster.admin("POST", "/redis/redis-1/kill"), /404/);

      // Started again on its port, it rejoins as the new master's replica.
      const back = (await cluster.admin("POST", `/redis/${victim.id}/start`)) as RedisNodeInfo;
      assert.equal(back.port, victim.port);
      assert.ok(back.up && back.pid !== undefined && back.pid !== victim.pid);
      await until(
        `${victim.id} rejoins as a replica`,
        async () => {
          const now = await cluster?.redis();
          const rejoined = now === undefined ? undefined : node(now, victim.id);
          return rejoined?.role === "replica" && rejoined.masterPort === heir.port
            ? rejoined
            : undefined;
        },
        30_000,
      );

      for (const client of clients.splice(0)) client.close();
      const pids = [...cluster.seenPids];
      assert.deepEqual(await cluster.stop(), [], "the supervisor stopped every process itself");
      assert.equal(cluster.exit?.code, 0);
      assert.deepEqual(pids.filter(pidAlive), []);
      for (const port of ports) assert.equal(await portOpen(port), false, `Redis port ${port}`);
    });
  });
}
