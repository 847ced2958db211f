import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { judge, writeSoakReport } from "../bench/soak/report.ts";
import { runSoak } from "../bench/soak/run-soak.ts";
import { endWithThisProcess, terminate, waitUntil } from "../src/process/index.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));

/**
 * The soak run's machinery in 21 seconds: the cluster, the load with its
 * logins and logouts, the samples, the restart, the report. The growth
 * bounds need hours and are judged by `npm run soak`, not here.
 */
test("a short soak samples Redis and every instance, restarts one, and writes its report", async () => {
  const out = await mkdtemp(join(tmpdir(), "sb-soak-test-"));
  try {
    const result = await runSoak({
      minutes: 0.35,
      rooms: 6,
      chatters: 8,
      sendIntervalMs: 2000,
      visitorAccounts: 4,
      visitIntervalMs: 2000,
      sampleMs: 1500,
      restartAt: 0.4,
      historySize: 50,
      sessionTtlSeconds: 60,
      instanceEntry: "src/server/main.ts",
      log: () => undefined,
    });
    const { samples, counts, restart } = result;
    assert.ok(samples.length >= 10, `${samples.length} samples`);
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
    assert.ok(counts.acked > 30, `${counts.acked} acknowledged`);
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
    // A third of a minute is too short to judge growth: every judged line says so rather than passing.
    assert.ok(judge(result).every((j) => j.verdict === "too short"));
  } finally {
    await rm(out, { recursive: true, force: true });
  }
});

test("npm run soak ended by SIGTERM writes the report of the samples so far and exits non-zero", async () => {
  const out = await mkdtemp(join(tmpdir(), "sb-soak-early-"));
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      "bench/soak/main.ts",
      "--minutes",
      "1",
      "--rooms",
      "3",
      "--chatters",
      "4",
      "--visitors",
      "2",
      "--sample-seconds",
      "2",
      "--source",
      "--out",
      out,
    ],
    { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] },
  );
  endWithThisProcess(child);
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  try {
    // Three samples in: the load runs and the report has something to show.
    await waitUntil(async () => (output.match(/ t=\d+s /g) ?? []).length >= 3, {
      timeoutMs: 90_000,
      what: "three samples from the soak",
      gaveUp: () =>
        child.exitCode === null && child.signalCode === null ? undefined : `ended:\n${output}`,
    });
    const exit = await terminate(child, 60_000);
    assert.equal(exit.code, 143, `exit ${JSON.stringify(exit)}\n${output}`);
    assert.match(output, /ENDED EARLY \(SIGTERM\): report written to /);
    const reports = (await readdir(out)).filter((f) => /^soak-.*\.md$/.test(f));
    assert.equal(reports.length, 1, `reports: ${reports.join(", ")}\n${output}`);
    const report = await readFile(join(out, reports[0] ?? ""), "utf8");
    assert.match(report, /## Verdict: \w+ \(ended early at 0\.\d min\)/);
    assert.match(report, /\*\*Ended early at 0\.\d min\*\* of the 1 planned/);
    const samples = /covers the (\d+) samples/.exec(report);
    assert.ok(Number(samples?.[1]) >= 3, `samples in the report: ${samples?.[1]}`);
  } finally {
    await terminate(child, 5000, "SIGKILL");
    await rm(out, { recursive: true, force: true });
  }
});
