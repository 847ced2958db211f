import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { latencySection, roundByRound } from "../bench/report/markdown.ts";
import type { BenchReport } from "../bench/scenarios/results.ts";

test("round by round: the median of the per-round ratios, and the rounds Switchboard was no worse in", () => {
  // Switchboard's median round (25) against plain's (17) would say 1.47×; round by round it is 15/14.
  const paired = roundByRound([15, 25, 23, 29, 29], [14, 16, 22, 17, 43]);
  assert.ok(paired !== undefined);
  assert.equal(paired.median, 15 / 14);
  assert.equal(paired.noWorse, 1);
  assert.equal(paired.rounds, 5);
});

test("round by round: of an even number of rounds, the median is halfway between the middle two", () => {
  const paired = roundByRound([10, 20, 30, 40], [10, 10, 10, 10]);
  assert.equal(paired?.median, 2.5);
  assert.equal(paired?.noWorse, 1);
});

test("round by round: nothing to pair without the same two rounds or more on both sides", () => {
  assert.equal(roundByRound([10], [10]), undefined);
  assert.equal(roundByRound([10, 20], [10, 20, 30]), undefined);
  assert.equal(roundByRound(undefined, [10, 20]), undefined);
});

test("the latency section says how Switchboard did round by round against each reference", () => {
  const report = JSON.parse(
    readFileSync(new URL("../bench/results/2026-12-01.json", import.meta.url), "utf8"),
  ) as BenchReport;
  const text = latencySection(report);
  const sw = report.systems.switchboard?.latency?.roundsP99;
  for (const other of ["plain", "ceiling"] as const) {
    const paired = roundByRound(sw, report.systems[other]?.latency?.roundsP99);
    assert.ok(paired !== undefined && paired.rounds === sw?.length, `${other}: rounds`);
    assert.ok(
      text.includes(
        `Switchboard / ${other}, p99 round by round: median ${paired.median.toFixed(2)}×; ` +
          `Switchboard's p99 was no higher than ${other}'s in ${paired.noWorse} of ${paired.rounds} rounds.`,
      ),
      text,
    );
  }
});
