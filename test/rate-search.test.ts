import assert from "node:assert/strict";
import { test } from "node:test";
import { fullConfig } from "../bench/scenarios/config.ts";
import type { StepResult } from "../bench/scenarios/results.ts";
import { RateSearch } from "../bench/scenarios/throughput.ts";

/** A step at `sendRate` of a system that holds up to `limit` sends per second. */
function step(sendRate: number, limit: number): StepResult {
  const held = sendRate <= limit;
  const none = { p50: 0, p95: 0, p99: 0, max: 0, mean: 0 };
  return {
    sendRate,
    offeredDeliveryRate: sendRate * 100,
    durationMs: 5000,
    sent: sendRate * 5,
    expected: sendRate * 500,
    delivered: sendRate * 500,
    lost: 0,
    duplicates: 0,
    late: 0,
    sendErrors: 0,
    whileDisconnected: 0,
    deliveredPerSecond: sendRate * 100,
    latency: none,
    toServer: none,
    fromServer: none,
    curve: [],
    cores: { instances: 0, redis: 0, router: 0, load: 0, machine: 0, other: 0 },
    senderLagMs: 0,
    held,
    reason: held ? "" : "p99 over the limit",
  };
}

function search(limit: number): { best: number | undefined; tried: number[] } {
  const rates = new RateSearch(fullConfig().throughput);
  for (let rate = rates.next(); rate !== undefined; rate = rates.next()) {
    rates.record(step(rate, limit));
  }
  return { best: rates.best?.sendRate, tried: rates.steps.map((s) => s.sendRate) };
}

test("the rate search lands within a sixteenth of the doubling gap below a system's limit", () => {
  for (const limit of [60, 130, 370, 410, 450, 790, 950, 1500]) {
    const { best, tried } = search(limit);
    assert.ok(best !== undefined && best <= limit, `limit ${limit}: best ${best} (${tried})`);
    // The doubling ends between `low` (held) and `2 low` (failed); four halvings leave low/16.
    const low = 25 * 2 ** Math.floor(Math.log2(limit / 25));
    assert.ok(limit - best <= low / 16 + 1, `limit ${limit}: best ${best} (${tried})`);
  }
});

test("limits a tenth apart land on different rates", () => {
  const a = search(800).best;
  const b = search(880).best;
  assert.ok(a !== undefined && b !== undefined && b > a, `800 -> ${a}, 880 -> ${b}`);
});

test("a system that fails its first step has no rate, and nothing is refined", () => {
  const { best, tried } = search(10);
  assert.equal(best, undefined);
  assert.deepEqual(tried, [25]);
});
