import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { writeReport } from "../bench/report/write-report.ts";
import { tinyConfig } from "../bench/scenarios/config.ts";
import type { BenchReport, LatencySummary } from "../bench/scenarios/results.ts";
import { runBench } from "../bench/scenarios/run.ts";
import { MEMBERS_PAGE } from "../src/protocol/index.ts";

/**
 * The big-room scenario (`--scenarios bigroom`) on the tiny configuration,
 * against Switchboard and plain: it runs, every figure is in the report, and
 * Switchboard lost and duplicated nothing in either storm. In a file of its
 * own, so that each of the bench's test files stays within the runner's
 * timeout on a busy machine.
 */

function assertFigures(where: string, latency: LatencySummary): void {
  for (const [name, value] of Object.entries(latency)) {
    assert.ok(Number.isFinite(value) && value >= 0, `${where}: ${name} is ${value}`);
  }
}

describe("npm run bench -- --scenarios bigroom, tiny", () => {
  let report: BenchReport;
  let dir: string;
  let files: string[];
  const log: string[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "sb-bench-big-test-"));
    const config = { ...tinyConfig(), systems: ["switchboard" as const, "plain" as const] };
    config.scenarios = ["bigroom"];
    report = await runBench(config, { log: (line) => log.push(line) });
    files = await writeReport(report, dir);
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("ran without an error", () => {
    for (const system of ["switchboard", "plain"] as const) {
      assert.deepEqual(report.systems[system]?.errors, [], `${system}\n${log.join("\n")}`);
    }
  });

  it("a bounded join, one message to all, and a storm in one room and in many", () => {
    const settings = tinyConfig().bigroom;
    for (const system of ["switchboard", "plain"] as const) {
      const big = report.systems[system]?.bigroom;
      assert.ok(big !== undefined, `${system}: no big-room result`);
      for (const round of [big.oneRoom, big.manyRooms]) {
        const where = `${system} in ${round.rooms} rooms`;
        assert.equal(round.connected, settings.clients, `${where}: connected`);
        const s = round.storm;
        assert.ok(s.affected > 0, `${where}: nobody was on the killed instance`);
        assert.equal(s.reconnected, s.affected, `${where}: back`);
        assertFigures(`${where} storm`, s.reconnect);
        assert.ok(s.expected > 0, `${where}: nothing was expected`);
        assert.equal(s.delivered + s.lost, s.expected, `${where}: delivered and lost`);
        assert.ok(Number.isFinite(round.presenceFramesPerMember), `${where}: presence frames`);
        assert.ok(round.joinAck.bytes > 0, `${where}: join acknowledgement measured`);
      }
      assert.equal(big.manyRooms.rooms, settings.rooms);
      const broadcast = big.oneRoom.broadcast;
      assert.ok(broadcast !== undefined, `${system}: no message to all`);
      assert.equal(broadcast.delivered, broadcast.expected, `${system}: the message reached all`);
      assertFigures(`${system} message to all`, broadcast.latency);
    }
    const sw = report.systems.switchboard?.bigroom;
    assert.ok(sw !== undefined);
    // The measuring user joins a room of everyone: the reply counts them all and names one page.
    assert.equal(sw.oneRoom.joinAck.memberCount, settings.clients + 1);
    assert.equal(sw.oneRoom.joinAck.members, Math.min(settings.clients + 1, MEMBERS_PAGE));
    assert.equal(sw.manyRooms.joinAck.memberCount, settings.clients / settings.rooms + 1);
    for (const round of [sw.oneRoom, sw.manyRooms]) {
      assert.equal(round.storm.lost, 0, `Switchboard lost messages in ${round.rooms} rooms`);
      assert.equal(round.storm.duplicates, 0, `Switchboard duplicated in ${round.rooms} rooms`);
    }
  });

  it("the report has the big room's section and its three targets", async () => {
    const json = JSON.parse(await readFile(files[0] ?? "", "utf8")) as {
      targets: { target: string }[];
    };
    assert.equal(json.targets.filter((t) => t.target.startsWith("big room")).length, 3);
    const md = await readFile(files[1] ?? "", "utf8");
    assert.ok(md.includes("## 5. Big room"), "report lacks the big room");
  });
});
