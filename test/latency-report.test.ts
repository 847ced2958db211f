import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { latencySection, roundByRound } from "../bench/report/markdown.ts";
import { targets } from "../bench/report/targets.ts";
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
  // The run of 2026-12-01: ten rounds of p99s per system, Switchboard's
  // [42.4, 25.4, 21.4, 17.2, 27.5, 29.1, 16, 33.5, 32.1, 20.3] against plain's
  // [28.1, 22.7, 40.8, 17, 65.1, 25.9, 25.2, 64.4, 21.7, 23.5] and the ceiling's
  // [38.3, 14.9, 23.4, 14.1, 15.9, 17.5, 38, 16.9, 12.7, 11.6]: the medians of
  // the per-round ratios, worked out by hand, are 0.94 and 1.68.
  const report = JSON.parse(
    readFileSync(new URL("../bench/results/2026-12-01.json", import.meta.url), "utf8"),
  ) as BenchReport;
  const text = latencySection(report);
  for (const line of [
    "Switchboard / plain, p99 round by round: median 0.94×; Switchboard's p99 was no higher than plain's in 5 of 10 rounds.",
    "Switchboard / ceiling, p99 round by round: median 1.68×; Switchboard's p99 was no higher than ceiling's in 2 of 10 rounds.",
  ]) {
    assert.ok(text.includes(line), `missing: ${line}\n${text}`);
  }
});

test("the targets are ratios to the references of the same run", () => {
  // The run of 2026-12-02 (its Markdown tables): Switchboard delivered 47,260/s
  // against plain's 37,500 (1.26x); fixed-load p99 60 ms against plain's 125
  // and the ceiling's 47 (1.26x, within 1.5x); heap 9.9 against 21.9 KB per
  // connection (0.45x); storm p99 1,948 ms against the ceiling's 1,414 (over).
  const report = JSON.parse(
    readFileSync(new URL("../bench/results/2026-12-02.json", import.meta.url), "utf8"),
  ) as BenchReport;
  assert.deepEqual(
    targets(report).map((check) => [check.target, check.holds]),
    [
      ["throughput at least 1.2x plain", true],
      ["p99 at the fixed load (median round) no worse than plain, at most 1.5x the ceiling", true],
      ["heap per idle connection at most 0.5x plain", true],
      ["reconnect storm: p99 caught up at most the ceiling's, 0 lost, 0 duplicated", false],
    ],
  );
});
