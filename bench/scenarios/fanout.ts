import type { ClusterInstance } from "../harness/cluster-process.ts";
import type { ClientSpec } from "../load/ipc.ts";
import type { LoadGenerator } from "../load/load-generator.ts";
import type { BenchConfig } from "./config.ts";
import { type ScenarioContext, waitForDeliveries } from "./context.ts";
import type { FanoutInstance, FanoutResult } from "./results.ts";
import { COOKIE_NAME, RunningSystem } from "./systems.ts";

/** The counters read from each instance's /metrics before and after the sends. */
const RECEIVED = "switchboard_bus_messages_received_total";
const DELIVERED = "switchboard_messages_delivered_total";

/** Where a room's clients sit: instance indexes, and clients on each. */
export interface RoomPlacement {
  room: number;
  instances: number[];
  clientsEach: number;
}

/**
 * An uneven spread of `rooms` rooms over `instances` instances, the same in
 * every run: a third of the rooms have their clients on one instance only,
 * a third on two neighbours, a third on every other instance (half of them);
 * rooms differ in size (one to four clients per instance), and each
 * instance's share of rooms differs, so that an instance that received every
 * room's messages (one channel for all) would stand out against its own.
 */
export function placeRooms(rooms: number, instances: number): RoomPlacement[] {
  const half = Math.max(1, Math.ceil(instances / 2));
  return Array.from({ length: rooms }, (_unused, room) => {
    // Each kind of spread comes round every instance in turn.
    const first = Math.floor(room / 3) % instances;
    const spread = room % 3;
    const on =
      spread === 0
        ? [first]
        : spread === 1
          ? [first, (first + 1) % instances]
          : Array.from({ length: half }, (_u, k) => (first + 2 * k) % instances);
    return { room, instances: [...new Set(on)], clientsEach: 1 + (room % 4) };
  });
}

async function counter(port: number, name: string): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  if (!res.ok) throw new Error(`GET /metrics of port ${port}: ${res.status}`);
  const text = await res.text();
  const match = new RegExp(`^${name} (\\S+)$`, "m").exec(text);
  if (match?.[1] === undefined) throw new Error(`port ${port}: /metrics has no ${name}`);
  return Number(match[1]);
}

async function counters(instances: ClusterInstance[]): Promise<Map<string, [number, number]>> {
  const read = await Promise.all(
    instances.map(
      async (i) =>
        [i.id, [await counter(i.port, RECEIVED), await counter(i.port, DELIVERED)]] as const,
    ),
  );
  return new Map(read.map(([id, values]) => [id, [values[0], values[1]]]));
}

/**
 * Scenario 6, per-room channels on one Redis: a Switchboard cluster of its
 * own (`fanout.instances` instances), clients connected straight to the
 * instances' ports, so that the benchmark knows which instance holds which
 * client, in rooms spread unevenly (`placeRooms`). The clients send at a
 * fixed rate; each instance's messages received from the bus (its
 * `/metrics`, read before and after) are set against the messages of the
 * rooms it has sockets in. Per-room channels make the two equal; one
 * channel for all rooms would bring every instance every message.
 */
export async function runFanout(
  config: BenchConfig,
  load: LoadGenerator,
  log: (line: string) => void,
  tag: string,
): Promise<FanoutResult> {
  const settings = config.fanout;
  log(`\nfanout: ${settings.instances} instances, ${settings.rooms} rooms, one Redis`);
  const system = await RunningSystem.start(
    "switchboard",
    { instances: settings.instances, sessions: config.sessions, router: "dev" },
    log,
  );
  const group = "switchboard-fanout";
  try {
    const instances = [...(await system.running())].sort((a, b) => a.port - b.port);
    if (instances.length !== settings.instances) {
      throw new Error(`${instances.length} of ${settings.instances} instances are running`);
    }
    const placements = placeRooms(settings.rooms, instances.length);
    const roomName = (room: number) => `fan${tag}${room}`;
    const clients: ClientSpec[] = [];
    for (const placement of placements) {
      for (const at of placement.instances) {
        const instance = instances[at] as ClusterInstance;
        for (let k = 0; k < placement.clientsEach; k++) {
          const index = clients.length;
          clients.push({
            system: "switchboard",
            group,
            index,
            url: `http://127.0.0.1:${instance.port}`,
            cookie: {
              name: COOKIE_NAME,
              value: system.sessions[index % system.sessions.length] ?? "",
            },
            rooms: [roomName(placement.room)],
          });
        }
      }
    }
    const connect = await load.connect(clients, { concurrency: 50, timeoutMs: 60_000 });
    if (connect.failed > 0) {
      throw new Error(`${connect.failed} clients did not connect: ${connect.errors.join("; ")}`);
    }
    log(
      `  ${connect.connected} clients connected straight to the instances ` +
        `(${instances.map((i) => connect.byInstance[i.id] ?? 0).join(" / ")})`,
    );
    const ctx: ScenarioContext = { config, system, load, log, tag, group };
    const before = await counters(instances);
    await load.begin(tag, 0);
    const count = Math.max(1, Math.round((settings.rate * settings.durationMs) / 1000));
    const sent = await load.send(group, count, settings.durationMs);
    const members = new Map(
      placements.map((p) => [roomName(p.room), p.instances.length * p.clientsEach]),
    );
    let expected = 0;
    for (const [room, n] of Object.entries(sent.sentByRoom))
      expected += n * (members.get(room) ?? 0);
    await waitForDeliveries(ctx, expected, settings.drainMs);
    const receipts = await load.collect();
    const after = await counters(instances);

    const perInstance: FanoutInstance[] = instances.map((instance, at) => {
      const mine = placements.filter((p) => p.instances.includes(at));
      const roomMessages = mine.reduce(
        (sum, p) => sum + (sent.sentByRoom[roomName(p.room)] ?? 0),
        0,
      );
      const [receivedBefore, deliveredBefore] = before.get(instance.id) ?? [0, 0];
      const [receivedAfter, deliveredAfter] = after.get(instance.id) ?? [0, 0];
      const received = receivedAfter - receivedBefore;
      return {
        id: instance.id,
        rooms: mine.length,
        clients: mine.reduce((sum, p) => sum + p.clientsEach, 0),
        received,
        roomMessages,
        delivered: deliveredAfter - deliveredBefore,
        ratio: roomMessages === 0 ? Number.NaN : received / roomMessages,
      };
    });
    const roomsBySpread: Record<string, number> = {};
    for (const p of placements) {
      const key = String(p.instances.length);
      roomsBySpread[key] = (roomsBySpread[key] ?? 0) + 1;
    }
    const result: FanoutResult = {
      instances: instances.length,
      rooms: placements.length,
      clients: connect.connected,
      roomsBySpread,
      sendRate: settings.rate,
      sent: sent.sent,
      expected,
      delivered: receipts.unique,
      lost: expected - receipts.unique,
      perInstance,
      worstRatio: Math.max(...perInstance.map((i) => (Number.isFinite(i.ratio) ? i.ratio : 0))),
    };
    for (const i of perInstance) {
      log(
        `  ${i.id}: ${i.rooms} rooms, ${i.clients} clients: received ${i.received} from the bus ` +
          `for ${i.roomMessages} messages of its rooms (${i.ratio.toFixed(2)}x), delivered ${i.delivered}`,
      );
    }
    log(
      `  sent ${result.sent}, ${result.delivered} of ${result.expected} deliveries shown; worst ratio ${result.worstRatio.toFixed(2)}x`,
    );
    return result;
  } finally {
    await load.closeClients(group).catch(() => {});
    await system.stop();
  }
}
