import type { BenchReport, BigRoomResult } from "../scenarios/results.ts";
import { kb, msText, ratio, twoDecimals } from "./format.ts";

/** One target of issue 5, checked against this run's figures. */
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
        `(${one.affected} rejoins; ${one.presenceFrames ?? 0} frames in all)`,
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
  const checks: TargetCheck[] = [];

  const swRate = sw?.throughput?.best?.deliveredPerSecond;
  const plainRate = plain?.throughput?.best?.deliveredPerSecond;
  checks.push({
    target: "throughput at least 1.0x plain",
    measured: `${ratio(swRate, plainRate)} plain`,
    holds: known(swRate, plainRate) ? (swRate as number) >= (plainRate as number) : undefined,
  });

  const swP99 = sw?.latency?.step.latency.p99;
  const plainP99 = plain?.latency?.step.latency.p99;
  checks.push({
    target: "p99 at the fixed load no worse than plain, and under 50 ms",
    measured: `${msText(swP99)} ms (plain ${msText(plainP99)} ms)`,
    holds: known(swP99, plainP99)
      ? (swP99 as number) <= (plainP99 as number) && (swP99 as number) < 50
      : undefined,
  });

  const heap = sw?.connections?.heapPerConnection;
  checks.push({
    target: "heap per idle connection under 12 KB",
    measured: `${kb(heap)} KB`,
    holds: known(heap) ? (heap as number) < 12 * 1024 : undefined,
  });

  const storm = sw?.storm;
  // The first storm (a warm-up) must lose and duplicate nothing either.
  const first = storm?.warmup;
  const lost = (storm?.lost ?? 0) + (first?.lost ?? 0);
  const duplicates = (storm?.duplicates ?? 0) + (first?.duplicates ?? 0);
  const allBack =
    storm !== undefined &&
    storm.reconnected === storm.affected &&
    (first === undefined || first.reconnected === first.affected);
  checks.push({
    target: "reconnect storm: p99 caught up under 2 s, 0 lost, 0 duplicated",
    measured:
      storm === undefined
        ? "–"
        : `p99 ${msText(storm.reconnect.p99)} ms${first === undefined ? "" : ` (first storm ${msText(first.reconnect.p99)} ms)`}, ` +
          `${storm.reconnected}/${storm.affected} back, ${lost} lost, ${duplicates} duplicated`,
    holds:
      storm === undefined || !known(storm.reconnect.p99)
        ? undefined
        : storm.reconnect.p99 < 2000 && allBack && lost === 0 && duplicates === 0,
  });

  const big = sw?.bigroom;
  if (big !== undefined) checks.push(...bigRoomTargets(big, report.config.instances));
  return checks;
}
