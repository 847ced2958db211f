import { mkdir, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { LocalChaosCluster } from "./local-cluster.ts";
import { chaosPassed, chaosTable } from "./report.ts";
import { CHAOS_STEPS, runChaos } from "./run-chaos.ts";

/**
 * `npm run chaos`: 300 clients (a share on long-polling) chat over 10 rooms
 * through a 3-instance cluster while it is killed, drained, scaled, restarted
 * and loses its Redis for a moment; prints a table per step and writes it to
 * bench/results/chaos-<date>.md. Exits 1 when anything was lost or duplicated.
 */
const { values } = parseArgs({
  options: {
    clients: { type: "string", default: "300" },
    rooms: { type: "string", default: "10" },
    "polling-share": { type: "string", default: "0.2" },
    "send-interval": { type: "string", default: "2000" },
    "chat-seconds": { type: "string", default: "3" },
    "no-write": { type: "boolean", default: false },
    /** Comma-separated step numbers (1-6) to run only those, e.g. --steps 1 for the kill. */
    steps: { type: "string", default: "" },
  },
});

const clients = Number(values.clients);
const chosen =
  values.steps === ""
    ? CHAOS_STEPS
    : values.steps.split(",").map((n) => {
        const step = CHAOS_STEPS[Number(n) - 1];
        if (step === undefined)
          throw new Error(`no step ${n}: steps are 1 to ${CHAOS_STEPS.length}`);
        return step;
      });
const rooms = Array.from({ length: Number(values.rooms) }, (_r, i) => `chaos-${i}`);
const started = new Date();
// The build that `npm run chaos` just made: instances start on plain Node, as in production.
const cluster = await LocalChaosCluster.start(3, { INSTANCE_ENTRY: "dist/server/main.js" });
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
  const file = `${dir}chaos-${stamp}.md`;
  await writeFile(
    file,
    [
      `# Chaos run, ${started.toISOString()}`,
      "",
      `${clients} clients (${Math.round(Number(values["polling-share"]) * 100)}% on long-polling) over ${rooms.length} rooms, 2 rooms each, one message every ~${values["send-interval"]} ms per client, through the router of a 3-instance local cluster.`,
      "Reconnect time runs from the moment a client lost its connection to the moment it was connected again with every room caught up.",
      "",
      table,
      "",
    ].join("\n"),
  );
  process.stdout.write(`written to ${file}\n`);
}
process.exit(passed ? 0 : 1);
