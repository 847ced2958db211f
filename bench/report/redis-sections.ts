import type { BenchReport, LatencyResult } from "../scenarios/results.ts";
import { cores, DASH, int, msText, ratio, table, twoDecimals } from "./format.ts";

/** The most an instance may receive from the bus against its rooms' messages (the Redis HA issue). */
export const FANOUT_TARGET = 1.1;

export function fanoutSection(report: BenchReport): string {
  const f = report.fanout;
  if (f === undefined) return "";
  const spread = Object.entries(f.roomsBySpread)
    .map(([on, rooms]) => `${rooms} on ${on} instance${on === "1" ? "" : "s"}`)
    .join(", ");
  return [
    "## 6. Per-room channels on one Redis",
    "",
    `Switchboard alone: ${f.instances} instances on one Redis, ${f.rooms} rooms (${spread}; one to four clients ` +
      `per room and instance), ${int(f.clients)} clients connected straight to the instances' ports, so that the ` +
      `benchmark knows which instance holds which client. The clients send ${int(f.sendRate)} messages/s for ` +
      `${report.config.fanout.durationMs / 1000} s. Per instance: messages received from the bus ` +
      "(`switchboard_bus_messages_received_total` from its /metrics, after less before), the messages sent to the " +
      "rooms it has sockets in, their ratio, and its deliveries to sockets (`switchboard_messages_delivered_total`). " +
      `With a channel per room the ratio is 1; one channel for all rooms would make it the whole run's ${int(f.sent)} ` +
      "messages over the instance's share.",
    "",
    table(
      ["instance", "rooms", "clients", "received", "messages of its rooms", "ratio", "delivered"],
      f.perInstance.map((i) => [
        i.id,
        int(i.rooms),
        int(i.clients),
        int(i.received),
        int(i.roomMessages),
        Number.isFinite(i.ratio) ? `${i.ratio.toFixed(2)}×` : DASH,
        int(i.delivered),
      ]),
    ),
    "",
    `Worst ratio ${f.worstRatio.toFixed(2)}× against the target of at most ${FANOUT_TARGET}×; ` +
      `${int(f.sent)} sent, ${int(f.delivered)} of ${int(f.expected)} deliveries shown (${int(f.lost)} lost).`,
  ].join("\n");
}

function ackRow(name: string, r: LatencyResult): string[] {
  const s = r.step;
  return [
    name,
    int(s.deliveredPerSecond),
    msText(s.latency.p50),
    msText(s.latency.p99),
    msText(s.toServer.p99),
    msText(s.latency.max),
    int(s.lost),
    int(s.sendErrors),
    (r.roundsP99 ?? []).map((p) => msText(p)).join(", "),
    cores(s.cores.instances),
    cores(s.cores.machine),
  ];
}

export function replicaAckSection(report: BenchReport): string {
  const r = report.replicaAck;
  if (r === undefined) return "";
  const rounds = report.config.latency.rounds;
  return [
    "## 7. Replica acknowledgement on and off",
    "",
    "Switchboard on a Redis master with one replica and three Sentinels (`REDIS_SENTINELS`), as two clusters of " +
      `${report.config.instances} instances on the same master: one with \`REDIS_REPLICA_ACK=on\` (a send is ` +
      "acknowledged and published once the replica has it, `WAIT`), one with `off`. Each has the throughput " +
      `scenario's ${int(report.config.throughput.clients)} clients in ${int(report.config.throughput.rooms)} rooms, ` +
      `sending ${int(r.sendRate)} messages/s in ${rounds} alternating rounds of ` +
      `${report.config.latency.durationMs / rounds / 1000} s; each row is that setting's median round by p99. ` +
      "Latency from the sender's send to each receiver showing the message, in ms.",
    "",
    table(
      [
        "replica ack",
        "deliveries/s",
        "p50",
        "p99",
        "to instance p99",
        "max",
        "lost",
        "refused",
        "p99 of every round",
        "instances cores",
        "machine cores",
      ],
      [ackRow("on", r.on), ackRow("off", r.off)],
    ),
    "",
    `Send p99 with the acknowledgement on / off: ${ratio(r.on.step.latency.p99, r.off.step.latency.p99)} ` +
      `(${msText(r.on.step.latency.p99)} ms against ${msText(r.off.step.latency.p99)} ms); ` +
      `p50 ${ratio(r.on.step.latency.p50, r.off.step.latency.p50)}; ` +
      `instances' cores ${twoDecimals(r.on.step.cores.instances)} against ${twoDecimals(r.off.step.cores.instances)}.`,
  ].join("\n");
}
