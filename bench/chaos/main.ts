import { mkdir, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { LocalChaosCluster } from "./local-cluster.ts";
import type { ChaosRedisMode } from "./redis-topology.ts";
import { chaosPassed, chaosTable } from "./report.ts";
import { chaosSteps, runChaos } from "./run-chaos.ts";

/**
 * `npm run chaos`: 300 clients (a share on long-polling) chat over 10 rooms
 * through a 3-instance cluster while it is killed, drained, scaled, restarted
 * and loses its Redis (a restart, then a `kill -9` of a master); prints a
 * table per step and writes it to bench/results/chaos-<date>.md. Exits 1
 * when anything was lost, duplicated, taken back or shown out of order.
 *
 * `--redis single|sentinel|cluster` picks the Redis topology (one Redis with
 * its append-only file, a master and a replica behind three Sentinels, or a
 * Cluster of three masters with a replica each); `--steps 7 --repeat 10`
 * (`--steps 6` on Sentinel and Cluster) runs only the Redis kill, ten times
 * over, bringing the killed node back as a replica between two kills.
 */
const { values } = parseArgs({
  options: {
    clients: { type: "string", default: "300" },
    rooms: { type: "string", default: "10" },
    "polling-share": { type: "string", default: "0.2" },
    "send-interval": { type: "string", default: "2000" },
    "chat-seconds": { type: "string", default: "3" },
    "no-write": { type: "boolean", default: false },
    /** Comma-separated step numbers to run only those, e.g. --steps 1 for the kill. */
    steps: { type: "string", default: "" },
    /** The Redis topology: single, sentinel or cluster. */
    redis: { type: "string", default: "single" },
    /** Runs the chosen steps this many times, one table for all. */
    repeat: { type: "string", default: "1" },
  },
});

const modes: readonly ChaosRedisMode[] = ["single", "sentinel", "cluster"];
const mode = modes.find((m) => m === values.redis);
if (mode === undefined) {
  process.stderr.write(`--redis must be one of ${modes.join(", ")}, not "${values.redis}"\n`);
  process.exit(2);
}
const repeat = Number(values.repeat);
if (!Number.isInteger(repeat) || repeat < 1) {
  process.stderr.write(`--repeat must be a whole number of at least 1, not "${values.repeat}"\n`);
  process.exit(2);
}
const clients = Number(values.clients);
const available = chaosSteps(mode);
const picked =
  values.steps === ""
    ? available
    : values.steps.split(",").map((n) => {
        const step = available[Number(n) - 1];
        if (step === undefined) {
          process.stderr.write(
            `no step ${n}: on ${mode} Redis, steps are 1 to ${available.length}\n`,
          );
          process.exit(2);
        }
        return step;
      });
const chosen = Array.from({ length: repeat }, (_r, round) =>
  picked.map((step) =>
    repeat === 1 ? step : { ...step, name: `${step.name} (${round + 1}/${repeat})` },
  ),
).flat();
const rooms = Array.from({ length: Number(values.rooms) }, (_r, i) => `chaos-${i}`);
const started = new Date();
// The build that `npm run chaos` just made: instances start on plain Node, as in production.
const cluster = await LocalChaosCluster.start(3, { INSTANCE_ENTRY: "dist/server/main.js" }, mode);
let results: Awaited<ReturnType<typeof runChaos>>;
try {
  results = await runChaos(
    cluster,
    {
      clients,
      rooms,
      roomsPerClient: 2,
      pollingShare: Number(values["polling-share"]),
      sendIntervalMs: Number(values["send-interval"]),
      chatMs: Number(values["chat-seconds"]) * 1000,
      settleTimeoutMs: 60_000,
      instances: 3,
      log: (line) => process.stdout.write(`${line}\n`),
    },
    chosen,
  );
} finally {
  await cluster.close();
}

const table = chaosTable(results);
const passed = chaosPassed(results);
process.stdout.write(
  `\n${table}\n\n${passed ? "PASS: nothing lost, nothing duplicated" : "FAIL"}\n`,
);
if (!values["no-write"]) {
  const dir = fileURLToPath(new URL("../results/", import.meta.url));
  await mkdir(dir, { recursive: true });
  const stamp = started.toISOString().slice(0, 10);
  const file = `${dir}chaos-${stamp}${mode === "single" ? "" : `-${mode}`}.md`;
  await writeFile(
    file,
    [
      `# Chaos run, ${started.toISOString()}`,
      "",
      `${clients} clients (${Math.round(Number(values["polling-share"]) * 100)}% on long-polling) over ${rooms.length} rooms, 2 rooms each, one message every ~${values["send-interval"]} ms per client, through the router of a 3-instance local cluster, on ${mode} Redis.`,
      "Reconnect time runs from the moment a client lost its connection to the moment it was connected again with every room caught up.",
      'After a Redis master\'s kill, "Redis back" is when Redis served the affected rooms again (its own failover, or the restart of one Redis), "sends back" when a send to every affected room had been stored after the kill.',
      "",
      table,
      "",
    ].join("\n"),
  );
  process.stdout.write(`written to ${file}\n`);
}
process.exit(passed ? 0 : 1);
