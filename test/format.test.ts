import assert from "node:assert/strict";
import { test } from "node:test";
import { dayLabel, plural, sameDay } from "../src/client/ui/format.ts";

test("the line between days says Today, Yesterday, or the date", () => {
  const now = new Date(2026, 11, 5, 0, 30).getTime();
  const lateYesterday = new Date(2026, 11, 4, 23, 50).getTime();
  const earlier = new Date(2026, 10, 30, 12, 0).getTime();
  assert.equal(dayLabel(now, now), "Today");
  assert.equal(dayLabel(lateYesterday, now), "Yesterday");
  assert.equal(sameDay(lateYesterday, now), false, "40 minutes apart, across midnight");
  const label = dayLabel(earlier, now);
  assert.match(label, /30/);
  assert.match(label, /2026/);
  assert.notEqual(label, "Yesterday");
});

test("plurals", () => {
  assert.equal(plural(1, "socket"), "1 socket");
  assert.equal(plural(2, "socket"), "2 sockets");
  assert.equal(plural(0, "person", "people"), "0 people");
});
