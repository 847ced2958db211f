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
 * The scenarios that run only when named, on the tiny configuration and
 * against Switchboard alone, in one run (one load generator): the big room
 * (`bigroom`: every figure is in the report, nothing lost or duplicated in
 * either storm; plain runs the same scenario code with another client), the
 * per-room channels (`fanout`: each instance's messages from the bus, read
 * from its /metrics, against the messages of its rooms) and the replica
 * acknowledgement on and off (`replica-ack`, on a master, a replica and
 * Sentinels). In a file of its own, so that each of the bench's test files
 * stays within the runner's timeout on a busy machine.
 */

function assertFigures(where: string, latency: LatencySummary): void {
  for (const [name, value] of Object.entries(latency)) {
    assert.ok(Number.isFinite(value) && value >= 0, `${where}: ${name} is ${value}`);
  }
}

describe("npm run bench -- --systems switchboard --scenarios bigroom,fanout,replica-ack, tiny", () => {
  let report: BenchReport;
  let dir: string;
  let files: string[];
  const log: string[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "sb-bench-big-test-"));
    const config = { ...tinyConfig(), systems: ["switchboard" as const] };
    config.scenarios = ["bigroom", "fanout", "replica-ack"];
    report = await runBench(config, { log: (line) => log.push(line) });
    files = await writeReport(report, dir);
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("ran without an error", () => {
    assert.deepEqual(report.systems.switchboard?.errors, [], log.join("\n"));
  });

  it("a bounded join, one message to all, and a storm in one room and in many", () => {
    const settings = tinyConfig().bigroom;
    for (const system of ["switchboard"] as const) {
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
        // Batches with names and counts alone are told apart, and both are among the frames.
        assert.ok(s.presenceFrames !== undefined && s.presenceCountFrames !== undefined, where);
        assert.ok(s.presenceCountFrames <= s.presenceFrames, `${where}: counts alone`);
        assert.ok(
          Number.isFinite(round.presenceFramesPerMemberPerWindow),
          `${where}: per member and window`,
        );
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

  it("per-room channels: each instance received from the bus the messages of its rooms, no more", () => {
    const f = report.fanout;
    const settings = tinyConfig().fanout;
    assert.ok(f !== undefined, `no fan-out result\n${log.join("\n")}`);
    assert.equal(f.perInstance.length, settings.instances);
    assert.equal(f.rooms, settings.rooms);
    // Rooms on one instance only and rooms on several.
    assert.ok((f.roomsBySpread["1"] ?? 0) > 0 && (f.roomsBySpread["2"] ?? 0) > 0, "spread");
    assert.ok(f.sent > 0 && f.expected > 0);
    assert.equal(f.lost, 0, "fan-out lost deliveries");
    assert.equal(f.delivered, f.expected);
    for (const i of f.perInstance) {
      assert.ok(i.roomMessages > 0, `${i.id}: no messages in its rooms`);
      // Per-room channels: exactly its rooms' messages, each once.
      assert.equal(i.received, i.roomMessages, `${i.id}: received from the bus`);
    }
    // Every delivery to a socket is counted by the one instance that holds the socket.
    assert.equal(
      f.perInstance.reduce((sum, i) => sum + i.delivered, 0),
      f.expected,
      "deliveries counted by the instances",
    );
    assert.ok(f.worstRatio <= 1.1, `worst ratio ${f.worstRatio}`);
  });

  it("replica acknowledgement on and off: both delivered everything at the same rate", () => {
    const r = report.replicaAck;
    assert.ok(r !== undefined, `no replica-ack result\n${log.join("\n")}`);
    for (const [name, result] of [
      ["on", r.on],
      ["off", r.off],
    ] as const) {
      const step = result.step;
      assert.equal(step.sendRate, r.sendRate, `${name}: rate`);
      assert.ok(step.sent > 0 && step.expected > 0, `${name}: nothing sent`);
      assert.equal(step.delivered, step.expected, `${name}: delivered`);
      assert.equal(step.sendErrors, 0, `${name}: refused`);
      assertFigures(`replica ack ${name}`, step.latency);
      assert.equal(result.roundsP99?.length, tinyConfig().latency.rounds, `${name}: rounds`);
    }
  });

  it("the report has each scenario's section and the targets", async () => {
    const json = JSON.parse(await readFile(files[0] ?? "", "utf8")) as {
      targets: { target: string; holds: boolean | null }[];
    };
    assert.equal(json.targets.filter((t) => t.target.startsWith("big room")).length, 3);
    const fanout = json.targets.find((t) => t.target.startsWith("per-room channels"));
    assert.equal(fanout?.holds, true, JSON.stringify(fanout));
    const md = await readFile(files[1] ?? "", "utf8");
    for (const heading of [
      "## 5. Big room",
      "of them counts alone",
      "## 6. Per-room channels on one Redis",
      "## 7. Replica acknowledgement on and off",
      "Send p99 with the acknowledgement on / off:",
    ]) {
      assert.ok(md.includes(heading), `report lacks ${heading}`);
    }
  });
});
