import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { judge, writeSoakReport } from "../bench/soak/report.ts";
import { runSoak } from "../bench/soak/run-soak.ts";

/**
 * The soak run's machinery in one minute: the cluster, the load with its
 * logins and logouts, the samples, the restart, the report. The growth
 * bounds need hours and are judged by `npm run soak`, not here.
 */
test("a one-minute soak samples Redis and every instance, restarts one, and writes its report", async () => {
  const out = await mkdtemp(join(tmpdir(), "sb-soak-test-"));
  try {
    const result = await runSoak({
      minutes: 1,
      rooms: 6,
      chatters: 8,
      sendIntervalMs: 2000,
      visitorAccounts: 4,
      visitIntervalMs: 3000,
      sampleMs: 5000,
      restartAt: 0.4,
      historySize: 50,
      sessionTtlSeconds: 60,
      instanceEntry: "src/server/main.ts",
      log: () => undefined,
    });
    const { samples, counts, restart } = result;
    assert.ok(samples.length >= 12, `${samples.length} samples`);
    for (const sample of samples) {
      assert.ok(sample.redisUsed > 0 && sample.redisKeys > 0, "Redis is sampled");
      assert.ok(sample.instances.length >= 2, `instances sampled at ${sample.t} s`);
      for (const i of sample.instances) {
        assert.ok(i.heapUsed > 0 && i.rss > i.heapUsed, `memory of ${i.id}`);
        assert.ok(i.handles > 0 && Number.isFinite(i.lagP99), `handles and lag of ${i.id}`);
      }
    }
    assert.ok(restart !== undefined, "one instance was restarted");
    const last = samples.at(-1);
    assert.ok(last !== undefined);
    const ids = new Set(last.instances.map((i) => i.id));
    assert.equal(ids.size, 3, "three instances run at the end");
    assert.ok(!ids.has(restart.id), "the restarted one was replaced");
    assert.ok(counts.acked > 50, `${counts.acked} acknowledged`);
    assert.ok(counts.delivered > counts.acked, "messages reached other clients");
    assert.ok(
      counts.logins > 0 && counts.logouts > 0 && counts.anonymous > 0,
      JSON.stringify(counts),
    );
    assert.equal(counts.lost, 0, "nothing acknowledged was lost, also across the restart");
    assert.equal(counts.refused, 0);
    // Sessions last 60 s here: the clients that stay keep theirs alive, as an open page does.
    assert.equal(counts.loggedOut, 0, "no client that stays was logged out");
    assert.equal(last.unsent, 0, "every outbox emptied");

    const path = await writeSoakReport(result, out, "test", "test");
    const report = await readFile(path, "utf8");
    assert.match(report, /## Verdict: PASS/);
    assert.match(report, /\| Redis used_memory \| Redis \|/);
    const charts = (await readdir(join(out, "soak-test"))).filter((f) => f.endsWith(".svg"));
    assert.equal(charts.length, 8);
    for (const chart of charts) {
      assert.match(await readFile(join(out, "soak-test", chart), "utf8"), /<polyline /);
    }
    // A minute is too short to judge growth: every judged line says so rather than passing.
    assert.ok(judge(result).every((j) => j.verdict === "too short"));
  } finally {
    await rm(out, { recursive: true, force: true });
  }
});
