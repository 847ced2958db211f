import type { BenchReport, BigRoomResult } from "../scenarios/results.ts";
import { kb, msText, ratio, twoDecimals } from "./format.ts";
import { FANOUT_TARGET } from "./redis-sections.ts";

/**
 * One target, checked against this run's figures. The targets are ratios to
 * the references measured in the same run: on a shared machine the absolute
 * times swing with the host (plain's maximum moved fivefold within hours),
 * the ratios much less.
 */
export interface TargetCheck {
  target: string;
  measured: string;
  /** undefined when the run lacks a figure it needs. */
  holds: boolean | undefined;
}

function known(...values: (number | undefined)[]): boolean {
  return values.every((v) => v !== undefined && Number.isFinite(v));
}

/** The targets of the big room (issue 23), when it ran. */
function bigRoomTargets(big: BigRoomResult, instances: number): TargetCheck[] {
  const { oneRoom, manyRooms } = big;
  const ack = oneRoom.joinAck;
  const one = oneRoom.storm;
  const many = manyRooms.storm;
  const clean = [one, many].every(
    (s) => s.reconnected === s.affected && s.lost === 0 && s.duplicates === 0,
  );
  return [
    {
      target: "big room: a join's acknowledgement at most 4 KB",
      measured: `${ack.bytes} bytes (${ack.members} of ${ack.memberCount} members)`,
      holds: known(ack.bytes) ? ack.bytes <= 4096 : undefined,
    },
    {
      target: `big room: storm p99 at most 1.3x the same clients in ${manyRooms.rooms} rooms, 0 lost, 0 duplicated`,
      measured:
        `p99 ${msText(one.reconnect.p99)} ms against ${msText(many.reconnect.p99)} ms ` +
        `(${ratio(one.reconnect.p99, many.reconnect.p99)}); ` +
        `lost ${one.lost + many.lost}, duplicated ${one.duplicates + many.duplicates}, ` +
        `back ${one.reconnected + many.reconnected}/${one.affected + many.affected}`,
      holds: known(one.reconnect.p99, many.reconnect.p99)
        ? one.reconnect.p99 <= 1.3 * many.reconnect.p99 && clean
        : undefined,
    },
    {
      target:
        "big room: presence frames in the storm O(1) per member and window (at most one per instance), not one per rejoin",
      measured:
        `${twoDecimals(oneRoom.presenceFramesPerMember)} per member over ${oneRoom.windows} windows ` +
        `(${one.affected} rejoins; ${one.presenceFrames ?? 0} frames in all, ` +
        `${one.presenceCountFrames ?? 0} of them a count alone; ${twoDecimals(oneRoom.presenceFramesPerRejoin)} per rejoin)`,
      holds:
        one.presenceFrames === undefined
          ? undefined
          : oneRoom.presenceFramesPerMember <= instances * oneRoom.windows,
    },
  ];
}

export function targets(report: BenchReport): TargetCheck[] {
  const sw = report.systems.switchboard;
  const plain = report.systems.plain;
  const ceiling = report.systems.ceiling;
  const checks: TargetCheck[] = [];

  const swRate = sw?.throughput?.best?.deliveredPerSecond;
  const plainRate = plain?.throughput?.best?.deliveredPerSecond;
  checks.push({
    target: "throughput at least 1.2x plain",
    measured: `${ratio(swRate, plainRate)} plain`,
    holds: known(swRate, plainRate) ? (swRate as number) >= 1.2 * (plainRate as number) : undefined,
  });

  // Each system's latency step is its median round.
  const swP99 = sw?.latency?.step.latency.p99;
  const plainP99 = plain?.latency?.step.latency.p99;
  const ceilingP99 = ceiling?.latency?.step.latency.p99;
  checks.push({
    target: "p99 at the fixed load (median round) no worse than plain, at most 1.5x the ceiling",
    measured:
      `${msText(swP99)} ms: ${ratio(swP99, plainP99)} plain (${msText(plainP99)} ms), ` +
      `${ratio(swP99, ceilingP99)} the ceiling (${msText(ceilingP99)} ms)`,
    holds: known(swP99, plainP99, ceilingP99)
      ? (swP99 as number) <= (plainP99 as number) &&
        (swP99 as number) <= 1.5 * (ceilingP99 as number)
      : undefined,
  });

  const heap = sw?.connections?.heapPerConnection;
  const plainHeap = plain?.connections?.heapPerConnection;
  checks.push({
    target: "heap per idle connection at most 0.5x plain",
    measured: `${kb(heap)} KB: ${ratio(heap, plainHeap)} plain (${kb(plainHeap)} KB)`,
    holds: known(heap, plainHeap) ? (heap as number) <= 0.5 * (plainHeap as number) : undefined,
  });

  const storm = sw?.storm;
  const ceilingStorm = ceiling?.storm?.reconnect.p99;
  // The first storm (a warm-up) must lose and duplicate nothing either.
  const first = storm?.warmup;
  const lost = (storm?.lost ?? 0) + (first?.lost ?? 0);
  const duplicates = (storm?.duplicates ?? 0) + (first?.duplicates ?? 0);
  const allBack =
    storm !== undefined &&
    storm.reconnected === storm.affected &&
    (first === undefined || first.reconnected === first.affected);
  checks.push({
    target: "reconnect storm: p99 caught up at most the ceiling's, 0 lost, 0 duplicated",
    measured:
      storm === undefined
        ? "–"
        : `p99 ${msText(storm.reconnect.p99)} ms: ${ratio(storm.reconnect.p99, ceilingStorm)} the ceiling (${msText(ceilingStorm)} ms)` +
          `${first === undefined ? "" : `, first storm ${msText(first.reconnect.p99)} ms`}; ` +
          `${storm.reconnected}/${storm.affected} back, ${lost} lost, ${duplicates} duplicated`,
    holds:
      storm === undefined || !known(storm.reconnect.p99, ceilingStorm)
        ? undefined
        : storm.reconnect.p99 <= (ceilingStorm as number) &&
          allBack &&
          lost === 0 &&
          duplicates === 0,
  });

  const big = sw?.bigroom;
  if (big !== undefined) checks.push(...bigRoomTargets(big, report.config.instances));

  const fanout = report.fanout;
  if (fanout !== undefined) {
    const worst = fanout.perInstance.reduce(
      (w, i) => (Number.isFinite(i.ratio) && i.ratio > (w?.ratio ?? -1) ? i : w),
      fanout.perInstance[0],
    );
    checks.push({
      target: `per-room channels on one Redis: each instance receives at most ${FANOUT_TARGET}x the messages of the rooms it has sockets in`,
      measured:
        worst === undefined
          ? "–"
          : `worst ${twoDecimals(fanout.worstRatio)}x (${worst.id}: ${worst.received} received for ${worst.roomMessages}) ` +
            `over ${fanout.instances} instances and ${fanout.rooms} rooms; ${fanout.lost} deliveries lost`,
      holds:
        worst === undefined || !known(fanout.worstRatio)
          ? undefined
          : fanout.worstRatio <= FANOUT_TARGET && fanout.lost === 0,
    });
  }
  return checks;
}
