import type { SystemName } from "../load/ipc.ts";
import type { BenchReport, StepResult, SystemResults } from "../scenarios/results.ts";
import { cores, DASH, int, kb, mb, msText, ratio, table, twoDecimals } from "./format.ts";
import { fanoutSection, replicaAckSection } from "./redis-sections.ts";
import { routersSection } from "./routers.ts";
import { type TargetCheck, targets } from "./targets.ts";

const SYSTEMS: SystemName[] = ["switchboard", "plain", "ceiling"];

/** The lowest send rate of a step that did not hold. */
function lowestFailed(steps: StepResult[] | undefined): number | undefined {
  const failed = (steps ?? []).filter((s) => !s.held).map((s) => s.sendRate);
  return failed.length === 0 ? undefined : Math.min(...failed);
}

/** CPU time of the instances per delivery, in µs. */
function perDelivery(step: StepResult | undefined): number | undefined {
  if (step === undefined || step.deliveredPerSecond <= 0) return undefined;
  return (step.cores.instances / step.deliveredPerSecond) * 1e6;
}

type Column = {
  header: string;
  value: (r: SystemResults) => number | undefined;
  text: (v: number | undefined) => string;
};

/** Rows per system, then "Switchboard / plain" and "Switchboard / ceiling" ratio rows. */
function comparison(report: BenchReport, columns: Column[]): string {
  const present = SYSTEMS.filter((s) => report.systems[s] !== undefined);
  const rows = present.map((system) => {
    const results = report.systems[system] as SystemResults;
    return [system, ...columns.map((c) => c.text(c.value(results)))];
  });
  const sw = report.systems.switchboard;
  for (const other of ["plain", "ceiling"] as const) {
    const them = report.systems[other];
    if (sw === undefined || them === undefined) continue;
    rows.push([`Switchboard / ${other}`, ...columns.map((c) => ratio(c.value(sw), c.value(them)))]);
  }
  return table(["system", ...columns.map((c) => c.header)], rows);
}

/** How the search closed in (reports written before the bisection have no `refineSteps`). */
function refinement(steps: number | undefined): string {
  return steps === undefined
    ? "rates in between are tried"
    : `the gap between the last rate that held and the first that failed is halved ${steps} times`;
}

export function throughputSection(report: BenchReport): string {
  const c = report.config.throughput;
  const lines = [
    "## 1. Fan-out throughput",
    "",
    `${int(c.clients)} clients over ${c.rooms} rooms (${int(c.clients / c.rooms)} per room) on ${report.config.instances} instances, through the router. ` +
      `The offered send rate doubles every ${c.stepMs / 1000} s step until a step fails (delivery p99 over ${c.p99LimitMs} ms, ` +
      `or any message not shown by every member of its room within ${c.drainMs / 1000} s), then ${refinement(c.refineSteps)}. ` +
      "The systems take turns step by step. Figures are for the highest step that held; the instances' CPU per " +
      "delivery is the figure that does not depend on how the machine's cores were shared with the router and the " +
      "load generator (see each step's machine cores).",
    "",
    comparison(report, [
      {
        header: "delivered msgs/s",
        value: (r) => r.throughput?.best?.deliveredPerSecond,
        text: int,
      },
      { header: "sends/s", value: (r) => r.throughput?.best?.sendRate, text: int },
      { header: "p50 ms", value: (r) => r.throughput?.best?.latency.p50, text: msText },
      { header: "p99 ms", value: (r) => r.throughput?.best?.latency.p99, text: msText },
      {
        header: "instances CPU µs/delivery",
        value: (r) => perDelivery(r.throughput?.best),
        text: msText,
      },
      { header: "instances cores", value: (r) => r.throughput?.best?.cores.instances, text: cores },
      { header: "redis cores", value: (r) => r.throughput?.best?.cores.redis, text: cores },
      { header: "router cores", value: (r) => r.throughput?.best?.cores.router, text: cores },
      { header: "load gen cores", value: (r) => r.throughput?.best?.cores.load, text: cores },
      {
        header: "lowest failed sends/s",
        value: (r) => lowestFailed(r.throughput?.steps),
        text: int,
      },
    ]),
    "",
    "Every step:",
    "",
  ];
  const rows: string[][] = [];
  for (const system of SYSTEMS) {
    for (const s of report.systems[system]?.throughput?.steps ?? []) {
      rows.push([
        system,
        int(s.sendRate),
        int(s.offeredDeliveryRate),
        int(s.deliveredPerSecond),
        msText(s.latency.p50),
        msText(s.latency.p99),
        msText(s.latency.max),
        int(s.lost),
        cores(s.cores.machine),
        cores(s.cores.load),
        cores(s.cores.other),
        s.held ? "held" : s.reason,
      ]);
    }
  }
  lines.push(
    table(
      [
        "system",
        "sends/s",
        "offered/s",
        "delivered/s",
        "p50",
        "p99",
        "max",
        "lost",
        "machine cores",
        "load cores",
        "other cores",
        "verdict",
      ],
      rows,
    ),
  );
  return lines.join("\n");
}

/**
 * Switchboard's p99 against a reference's, round by round. The two ran one
 * right after the other in each round, so a slow or a quiet spell of a shared
 * machine weighs on both alike, which comparing each system's median round
 * does not ensure. Undefined unless both ran the same rounds, two or more.
 */
export function roundByRound(
  switchboard: readonly number[] | undefined,
  reference: readonly number[] | undefined,
): { median: number; noWorse: number; rounds: number } | undefined {
  if (switchboard === undefined || reference === undefined) return undefined;
  if (switchboard.length < 2 || switchboard.length !== reference.length) return undefined;
  const ratios = switchboard.map((p99, i) => p99 / (reference[i] as number));
  const sorted = [...ratios].sort((a, b) => a - b);
  const middle = sorted.length / 2;
  return {
    // Of an even number of rounds, halfway between the two middle ones: neither side's pick.
    median:
      sorted.length % 2 === 1
        ? (sorted[Math.floor(middle)] as number)
        : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2,
    noWorse: ratios.filter((r) => r <= 1).length,
    rounds: ratios.length,
  };
}

export function latencySection(report: BenchReport): string {
  const any = SYSTEMS.map((s) => report.systems[s]?.latency).find((l) => l !== undefined);
  const rounds = report.config.latency.rounds ?? 1;
  const roundLines: string[] = [];
  for (const system of SYSTEMS) {
    const p99s = report.systems[system]?.latency?.roundsP99;
    if (p99s === undefined || p99s.length < 2) continue;
    if (roundLines.length === 0)
      roundLines.push("", "p99 of every round, in ms, in the order run:", "");
    roundLines.push(`- ${system}: ${p99s.map((p) => msText(p)).join(", ")}`);
  }
  const sw = report.systems.switchboard?.latency?.roundsP99;
  for (const other of ["plain", "ceiling"] as const) {
    const paired = roundByRound(sw, report.systems[other]?.latency?.roundsP99);
    if (paired === undefined) continue;
    roundLines.push(
      "",
      `Switchboard / ${other}, p99 round by round: median ${paired.median.toFixed(2)}×; ` +
        `Switchboard's p99 was no higher than ${other}'s in ${paired.noWorse} of ${paired.rounds} rounds.`,
    );
  }
  return [
    "## 2. Latency at a fixed load",
    "",
    `The throughput scenario's clients send for ${report.config.latency.durationMs / 1000} s at ${any === undefined ? DASH : `${int(any.step.sendRate)} sends/s (${any.basis})`}` +
      `${rounds > 1 ? `, in ${rounds} rounds of ${report.config.latency.durationMs / rounds / 1000} s that the systems take turns in (the order rotating); each row is that system's median round by p99` : ""}. ` +
      "Delivery latency at every receiver, in ms. `same instance` and `other instances` split the deliveries by " +
      "where the receiver was: on the instance that took the send (the sender itself included), or on another one. " +
      "`to instance` and `instance to receiver` split each delivery at the message's `ts`, which the instance that " +
      "took the send sets (in whole ms).",
    "",
    comparison(report, [
      { header: "deliveries/s", value: (r) => r.latency?.step.deliveredPerSecond, text: int },
      { header: "p50", value: (r) => r.latency?.step.latency.p50, text: msText },
      { header: "p95", value: (r) => r.latency?.step.latency.p95, text: msText },
      { header: "p99", value: (r) => r.latency?.step.latency.p99, text: msText },
      { header: "max", value: (r) => r.latency?.step.latency.max, text: msText },
      {
        header: "same instance p99",
        value: (r) => r.latency?.step.sameInstance?.p99,
        text: msText,
      },
      {
        header: "other instances p99",
        value: (r) => r.latency?.step.otherInstances?.p99,
        text: msText,
      },
      { header: "to instance p99", value: (r) => r.latency?.step.toServer.p99, text: msText },
      {
        header: "instance to receiver p99",
        value: (r) => r.latency?.step.fromServer.p99,
        text: msText,
      },
      { header: "lost", value: (r) => r.latency?.step.lost, text: int },
      {
        header: "instances CPU µs/delivery",
        value: (r) => perDelivery(r.latency?.step),
        text: msText,
      },
      { header: "machine cores", value: (r) => r.latency?.step.cores.machine, text: cores },
      { header: "load gen cores", value: (r) => r.latency?.step.cores.load, text: cores },
    ]),
    ...waitingLines(report),
    ...roundLines,
  ].join("\n");
}

const WAITING_PARTS = [
  ["load", "load gen"],
  ["router", "router"],
  ["instances", "instances"],
  ["redis", "redis"],
] as const;

/** The latency rounds' run-queue waits (reports from before 2026-12-02 have none). */
function waitingLines(report: BenchReport): string[] {
  if (!SYSTEMS.some((s) => report.systems[s]?.latency?.step.waiting !== undefined)) return [];
  return [
    "",
    "Waiting for a core, in the same rounds: how long each part's event loops were ready to run while every " +
      "core was taken (Linux's run-queue wait, /proc/<pid>/schedstat), as cores' worth of time, and on average " +
      "before each turn on a core, in ms. A message waits for such a turn at every process it passes (load " +
      "generator, router, instance, Redis, instance, router, load generator); where the waiting is as large as " +
      "the CPU used, the latency is the machine's scheduling more than any system's work.",
    "",
    comparison(
      report,
      WAITING_PARTS.flatMap(([part, label]): Column[] => [
        {
          header: `${label} waiting cores`,
          value: (r) => r.latency?.step.waiting?.[part].cores,
          text: cores,
        },
        {
          header: `${label} ms per turn`,
          value: (r) => r.latency?.step.waiting?.[part].perTurnMs,
          text: twoDecimals,
        },
      ]),
    ),
  ];
}

export function connectionsSection(report: BenchReport): string {
  const c = report.config.connections;
  const lines = [
    "## 3. Idle connections",
    "",
    `${int(c.clients)} logged-in clients (sharing ${report.config.sessions} logins) connect straight to the ${report.config.instances} instances' ports, ` +
      "all in one room. Heap is `heapUsed` after a full GC (read by a preloaded probe), RSS from /proc; both as the growth " +
      "from before the clients came, per socket the instance counts. Then one message is sent to all of them." +
      (c.clients < 3000
        ? " With this few connections per instance, costs that do not grow with them (code compiled meanwhile, " +
          "tables grown once) weigh in: the per-connection figures are only meaningful in a full run."
        : ""),
    "",
    comparison(report, [
      { header: "connected", value: (r) => r.connections?.connected, text: int },
      { header: "connects/s", value: (r) => r.connections?.connectRate, text: int },
      {
        header: "instances CPU ms/conn",
        value: (r) => r.connections?.instanceCpuMsPerConnection,
        text: msText,
      },
      {
        header: "load gen CPU ms/conn",
        value: (r) => r.connections?.loadCpuMsPerConnection,
        text: msText,
      },
      { header: "heap KB/conn", value: (r) => r.connections?.heapPerConnection, text: kb },
      { header: "RSS KB/conn", value: (r) => r.connections?.rssPerConnection, text: kb },
      { header: "message reached", value: (r) => r.connections?.broadcast.delivered, text: int },
      {
        header: "time to reach all ms",
        value: (r) => r.connections?.broadcast.latency.max,
        text: msText,
      },
    ]),
    "",
    "Per instance:",
    "",
  ];
  const rows: string[][] = [];
  for (const system of SYSTEMS) {
    for (const i of report.systems[system]?.connections?.instances ?? []) {
      rows.push([
        system,
        i.id,
        int(i.sockets),
        mb(i.heapBefore),
        mb(i.heapAfter),
        kb(i.heapPerConnection),
        mb(i.rssBefore),
        mb(i.rssAfter),
        kb(i.rssPerConnection),
      ]);
    }
  }
  lines.push(
    table(
      [
        "system",
        "instance",
        "sockets",
        "heap MB before",
        "heap MB after",
        "heap KB/conn",
        "RSS MB before",
        "RSS MB after",
        "RSS KB/conn",
      ],
      rows,
    ),
  );
  return lines.join("\n");
}

export function stormSection(report: BenchReport): string {
  const c = report.config.storm;
  return [
    "## 4. Reconnect storm",
    "",
    `${int(c.clients)} clients in ${c.rooms} rooms chat through the router at ${c.rate} sends/s; the instance holding the most of them gets SIGKILL. ` +
      "Times run from the kill until each of its clients is connected again with its rooms joined; for Switchboard that " +
      "includes the replay of what it missed (its status turns connected only when every room caught up). Plain and ceiling " +
      "have no history: what was sent while a client was away is lost to it. Lost counts every (message, member) pair " +
      "never shown, over the whole run; messages sent while disconnected count in it (plain and ceiling drop them)." +
      (c.warmup
        ? " A first storm of the same size ran before, in other rooms, and the measured storm killed the instance that " +
          "replaced the one it killed: the survivors are instances that had handled a storm before, as those of a cluster " +
          "that has been up a while have, and not processes whose reconnection paths the JIT compiler has yet to optimise " +
          "(in a first storm the load generator's workers, the router and the instances all compile them, on the same cores). " +
          "The first storm's figures are in the last columns."
        : ""),
    "",
    comparison(report, [
      { header: "clients", value: (r) => r.storm?.clients, text: int },
      { header: "on killed instance", value: (r) => r.storm?.affected, text: int },
      { header: "back", value: (r) => r.storm?.reconnected, text: int },
      { header: "p50 ms", value: (r) => r.storm?.reconnect.p50, text: msText },
      { header: "p99 ms", value: (r) => r.storm?.reconnect.p99, text: msText },
      { header: "max ms", value: (r) => r.storm?.reconnect.max, text: msText },
      { header: "deliveries expected", value: (r) => r.storm?.expected, text: int },
      { header: "lost", value: (r) => r.storm?.lost, text: int },
      { header: "duplicated", value: (r) => r.storm?.duplicates, text: int },
      { header: "sent while away", value: (r) => r.storm?.whileDisconnected, text: int },
      {
        header: "instances CPU ms/reconnect",
        value: (r) => r.storm?.instanceCpuMsPerReconnect,
        text: msText,
      },
      { header: "machine cores", value: (r) => r.storm?.cores.machine, text: cores },
      ...(c.warmup
        ? [
            {
              header: "first storm p99 ms",
              value: (r: SystemResults) => r.storm?.warmup?.reconnect.p99,
              text: msText,
            },
            {
              header: "first storm lost",
              value: (r: SystemResults) => r.storm?.warmup?.lost,
              text: int,
            },
            {
              header: "first storm duplicated",
              value: (r: SystemResults) => r.storm?.warmup?.duplicates,
              text: int,
            },
          ]
        : []),
    ]),
  ].join("\n");
}

export function bigRoomSection(report: BenchReport): string {
  const c = report.config.bigroom;
  const rows: string[][] = [];
  for (const system of SYSTEMS) {
    const r = report.systems[system]?.bigroom;
    if (r === undefined) continue;
    for (const round of [r.oneRoom, r.manyRooms]) {
      const s = round.storm;
      rows.push([
        system,
        int(round.rooms),
        int(round.connected),
        msText(round.connectSeconds * 1000),
        int(round.joinAck.bytes),
        `${int(round.joinAck.members)} of ${int(round.joinAck.memberCount)}`,
        round.broadcast === undefined ? DASH : msText(round.broadcast.latency.max),
        round.broadcast === undefined ? DASH : msText(round.broadcast.latency.p50),
        int(s.affected),
        int(s.reconnected),
        msText(s.reconnect.p50),
        msText(s.reconnect.p99),
        msText(s.reconnect.max),
        int(s.expected),
        int(s.lost),
        int(s.duplicates),
        int(s.presenceFrames),
        int(s.presenceCountFrames),
        twoDecimals(round.presenceFramesPerRejoin),
        twoDecimals(round.presenceFramesPerMember),
        round.presenceFramesPerMemberPerWindow === undefined
          ? DASH
          : round.presenceFramesPerMemberPerWindow.toFixed(3),
        int(round.windows),
        cores(s.cores.machine),
      ]);
    }
  }
  const sw = report.systems.switchboard?.bigroom;
  return [
    "## 5. Big room",
    "",
    `${int(c.clients)} connections, each a user of its own (Switchboard; plain's share the run's logins: it has no presence), ` +
      `connect straight to the ${report.config.instances} instances' ports, all in one room; then the same number, new ones, spread over ` +
      `${c.rooms} rooms. In each round: the JSON size of one more user's \`room:join\` acknowledgement in a full room ` +
      "(and the members it names, of the room's count); in the one-room round, the time until one message reached everyone; " +
      `then a reconnect storm: the instance holding a third of the clients gets SIGKILL while the rooms chat at ${c.ratePerRoom} ` +
      "message(s) per room and second (the same per client in both rounds), and its clients reconnect straight to the " +
      "other instances (each picks one at random). Times run from the kill until a client is connected again with its room " +
      "joined and caught up. Presence frames are those the clients received while the storm was measured (from the first " +
      "send before the kill to the end), every one of them: batches with names and, in rooms above " +
      "`PRESENCE_COUNT_ONLY_ABOVE` members (1000), batches with the count alone; windows are the 250 ms presence " +
      "windows from the kill until everyone was back. A client that is back within a window, or whose entry of the " +
      "killed instance is reaped after it is back, is announced to nobody: a storm whose clients all come back may " +
      "rightly count no frame at all.",
    "",
    table(
      [
        "system",
        "rooms",
        "connected",
        "connect ms",
        "join ack bytes",
        "members in ack",
        "one message to all ms",
        "its p50 ms",
        "on killed instance",
        "back",
        "p50 ms",
        "p99 ms",
        "max ms",
        "deliveries expected",
        "lost",
        "duplicated",
        "presence frames",
        "of them counts alone",
        "per rejoin",
        "per member",
        "per member and window",
        "windows",
        "machine cores",
      ],
      rows,
    ),
    "",
    `Switchboard, one room against ${c.rooms} rooms, storm p99: ` +
      ratio(sw?.oneRoom.storm.reconnect.p99, sw?.manyRooms.storm.reconnect.p99) +
      "; p50: " +
      ratio(sw?.oneRoom.storm.reconnect.p50, sw?.manyRooms.storm.reconnect.p50) +
      ".",
  ].join("\n");
}

export function targetsSection(checks: TargetCheck[]): string {
  return [
    "## Targets",
    "",
    table(
      ["target", "measured", "holds"],
      checks.map((t) => [
        t.target,
        t.measured,
        t.holds === undefined ? DASH : t.holds ? "yes" : "no",
      ]),
    ),
  ].join("\n");
}

export function errorsSection(report: BenchReport): string {
  const rows: string[][] = [];
  for (const system of SYSTEMS) {
    for (const e of report.systems[system]?.errors ?? [])
      rows.push([system, e.scenario, e.message]);
  }
  return rows.length === 0
    ? ""
    : ["## Errors", "", table(["system", "scenario", "error"], rows)].join("\n");
}

/** The tables only, for the console. */
export function tablesText(report: BenchReport): string {
  const ran = (scenario: "throughput" | "latency" | "connections" | "storm" | "bigroom") =>
    SYSTEMS.some((s) => report.systems[s]?.[scenario] !== undefined);
  return [
    targetsSection(targets(report)),
    ran("throughput") ? throughputSection(report) : "",
    ran("latency") ? latencySection(report) : "",
    ran("connections") ? connectionsSection(report) : "",
    ran("storm") ? stormSection(report) : "",
    ran("bigroom") ? bigRoomSection(report) : "",
    fanoutSection(report),
    replicaAckSection(report),
    routersSection(report),
    errorsSection(report),
  ]
    .filter((s) => s !== "")
    .join("\n\n");
}

/** What the clients went through; reports from before `--router` went through the dev router. */
function routerLine(report: BenchReport): string {
  if ((report.routers?.length ?? 0) > 1) {
    return `Routers: ${(report.routers ?? []).map((r) => r.router).join(", ")}, one after the other (see "Routers side by side"); the other tables are those of the last, ${report.config.router}.`;
  }
  const router: string = report.config.router ?? "dev";
  return router === "haproxy"
    ? "Router: **HAProxy** (Debian's, from `deploy/haproxy.cfg`, its servers the instances the supervisor started); its CPU is what the tables call the router's."
    : "Router: the supervisor's sticky router (`src/router/`, in the supervisor's process); its CPU is what the tables call the router's.";
}

export function markdownReport(report: BenchReport, svgName: string): string {
  const m = report.machine;
  const args = [
    report.profile === "full" ? "" : ` --${report.profile}`,
    (report.routers?.length ?? 0) > 1
      ? ` --router ${(report.routers ?? []).map((r) => r.router).join(",")}`
      : (report.config.router ?? "dev") === "dev"
        ? ""
        : ` --router ${report.config.router}`,
  ].join("");
  return [
    `# Switchboard benchmark: ${report.date.slice(0, 10)} (${report.profile} run)`,
    "",
    `Commit ${report.commit}. Machine: ${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.os}; Node ${m.node}, Redis ${m.redis}. ` +
      `Cores busy before the run (other work on the machine): ${cores(report.backgroundCores)}. ` +
      `The run took ${Math.round(report.durationSeconds)} s (\`npm run bench${args === "" ? "" : ` --${args}`}\`).`,
    "",
    routerLine(report),
    "",
    "Systems: **switchboard** (this repository), **plain** (`bench/references/plain-server.ts`: Socket.IO 4.8, " +
      "@socket.io/redis-adapter, express-session + connect-redis, no history), **ceiling** " +
      "(`bench/references/ceiling-server.ts`: `ws` and one Redis pub/sub channel, no framework).",
    "",
    ...report.notes.map((n) => `- ${n}`),
    "",
    `![latency distributions and delivered vs offered rate](${svgName})`,
    "",
    tablesText(report),
    "",
  ].join("\n");
}
