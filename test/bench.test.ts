import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { SystemName } from "../bench/load/ipc.ts";
import { writeReport } from "../bench/report/write-report.ts";
import { tinyConfig } from "../bench/scenarios/config.ts";
import type { BenchReport, LatencySummary, StepResult } from "../bench/scenarios/results.ts";
import { runBench } from "../bench/scenarios/run.ts";

/**
 * The benchmark machinery on the smallest configuration, against all three
 * systems: every scenario runs, every figure is in the report, and every
 * system delivered every message (except where losing them is the point:
 * plain and ceiling in the reconnect storm). It proves the bench works, not
 * how fast anything is.
 */

const SYSTEMS: SystemName[] = ["switchboard", "plain", "ceiling"];

function assertFigures(where: string, latency: LatencySummary): void {
  for (const [name, value] of Object.entries(latency)) {
    assert.ok(Number.isFinite(value) && value >= 0, `${where}: ${name} is ${value}`);
  }
}

function assertDeliveredAll(where: string, step: StepResult): void {
  assert.ok(step.sent > 0, `${where}: nothing sent`);
  assert.ok(step.expected > 0, `${where}: nothing expected`);
  assert.equal(step.delivered, step.expected, `${where}: delivered`);
  assert.equal(step.lost, 0, `${where}: lost`);
  assert.equal(step.duplicates, 0, `${where}: duplicated`);
  assert.equal(step.sendErrors, 0, `${where}: refused`);
  assertFigures(where, step.latency);
  for (const [part, cores] of Object.entries(step.cores)) {
    assert.ok(Number.isFinite(cores), `${where}: cores of ${part}`);
  }
}

describe("npm run bench, tiny", () => {
  let report: BenchReport;
  let dir: string;
  let files: string[];
  const log: string[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "sb-bench-test-"));
    report = await runBench(tinyConfig(), { log: (line) => log.push(line) });
    files = await writeReport(report, dir);
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("ran every scenario against every system without an error", () => {
    for (const system of SYSTEMS) {
      const results = report.systems[system];
      assert.ok(results !== undefined, `${system} missing\n${log.join("\n")}`);
      assert.deepEqual(results.errors, [], `${system}\n${log.join("\n")}`);
    }
  });

  it("fan-out and fixed-load steps delivered every message to every member", () => {
    for (const system of SYSTEMS) {
      const throughput = report.systems[system]?.throughput;
      assert.ok(throughput?.best !== undefined, `${system}: no step held`);
      assert.equal(throughput.clients, tinyConfig().throughput.clients);
      for (const step of throughput.steps) assertDeliveredAll(`${system} throughput`, step);
      assert.ok(throughput.best.deliveredPerSecond > 0);
      const latency = report.systems[system]?.latency;
      assert.ok(latency !== undefined, `${system}: no latency result`);
      assertDeliveredAll(`${system} latency`, latency.step);
      // Every delivery is put on one side; a sender shows its own message on its own instance.
      const { sameInstance, otherInstances } = latency.step;
      assert.ok(sameInstance !== undefined && otherInstances !== undefined, `${system}: split`);
      assert.equal(
        sameInstance.deliveries + otherInstances.deliveries,
        latency.step.delivered,
        `${system}: same + other instances`,
      );
      assert.ok(sameInstance.deliveries >= latency.step.sent, `${system}: senders' own`);
      // How long each part waited for a core: Linux tells it for every process.
      const waiting = latency.step.waiting;
      assert.ok(waiting !== undefined, `${system}: no run-queue waits`);
      for (const [part, wait] of Object.entries(waiting)) {
        assert.ok(
          wait.cores >= 0 && wait.perTurnMs >= 0,
          `${system}: ${part} waited ${wait.cores}`,
        );
      }
    }
  });

  it("idle connections: all connected, memory measured, the message reached all", () => {
    for (const system of SYSTEMS) {
      const c = report.systems[system]?.connections;
      assert.ok(c !== undefined, `${system}: no connections result`);
      assert.equal(c.connected, c.clients, `${system}: connected`);
      assert.equal(c.failed, 0);
      assert.ok(c.connectRate > 0);
      assert.equal(c.instances.length, tinyConfig().instances);
      for (const i of c.instances) {
        assert.ok(i.sockets > 0, `${system} ${i.id}: sockets`);
        assert.ok(Number.isFinite(i.heapAfter) && i.heapAfter > 0, `${system} ${i.id}: heap`);
        assert.ok(Number.isFinite(i.rssAfter) && i.rssAfter > 0, `${system} ${i.id}: rss`);
      }
      assert.ok(Number.isFinite(c.heapPerConnection), `${system}: heap per connection`);
      assert.ok(Number.isFinite(c.rssPerConnection), `${system}: rss per connection`);
      assert.equal(c.broadcast.delivered, c.connected, `${system}: broadcast`);
      assert.equal(c.broadcast.lost, 0);
    }
  });

  it("reconnect storm: everyone came back; Switchboard lost and duplicated nothing", () => {
    for (const system of SYSTEMS) {
      const s = report.systems[system]?.storm;
      assert.ok(s !== undefined, `${system}: no storm result`);
      assert.ok(s.affected > 0, `${system}: nobody was on the killed instance`);
      assert.equal(s.reconnected, s.affected, `${system}: back`);
      assertFigures(`${system} storm`, s.reconnect);
      // Every expected delivery is either counted as delivered or as lost, never both.
      assert.ok(s.expected > 0, `${system}: nothing was expected`);
      assert.equal(s.delivered + s.lost, s.expected, `${system}: delivered and lost do not add up`);
      // A first storm ran before the measured one.
      assert.ok(s.warmup !== undefined, `${system}: no first storm`);
      assert.ok(
        s.warmup.affected > 0,
        `${system}: nobody was on the first storm's killed instance`,
      );
      assert.equal(
        s.warmup.reconnected,
        s.warmup.affected,
        `${system}: back after the first storm`,
      );
      assertFigures(`${system} first storm`, s.warmup.reconnect);
    }
    const sw = report.systems.switchboard?.storm;
    assert.equal(sw?.lost, 0, "Switchboard lost messages");
    assert.equal(sw?.duplicates, 0, "Switchboard duplicated messages");
    assert.equal(sw?.delivered, sw?.expected);
    assert.equal(sw?.warmup?.lost, 0, "Switchboard lost messages in the first storm");
    assert.equal(sw?.warmup?.duplicates, 0, "Switchboard duplicated messages in the first storm");
  });

  it("wrote the JSON, the Markdown tables and the chart", () => {
    assert.equal(files.length, 3);
    for (const file of files) assert.ok(existsSync(file), file);
    const json = JSON.parse(readFileSync(files[0] ?? "", "utf8")) as BenchReport & {
      targets: unknown[];
    };
    assert.equal(json.profile, "tiny");
    assert.equal(json.targets.length, 4);
    assert.ok(json.machine.cores > 0 && json.machine.node.startsWith("v"));
    const md = readFileSync(files[1] ?? "", "utf8");
    for (const heading of [
      "## Targets",
      "## 1. Fan-out throughput",
      "## 2. Latency at a fixed load",
      "## 3. Idle connections",
      "## 4. Reconnect storm",
      "first storm p99 ms",
      "Waiting for a core",
      "Switchboard / plain",
      "Switchboard / ceiling",
    ]) {
      assert.ok(md.includes(heading), `report lacks ${heading}`);
    }
    const svg = readFileSync(files[2] ?? "", "utf8");
    assert.match(svg, /^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    // Per system: a latency curve, a delivered line, a p99 line and a legend line.
    assert.equal((svg.match(/<polyline/g) ?? []).length, 12);
  });
});
