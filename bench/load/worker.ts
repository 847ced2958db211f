import type { BenchClient, ClientHooks } from "./clients/bench-client.ts";
import { CeilingBenchClient } from "./clients/ceiling-client.ts";
import { PlainBenchClient } from "./clients/plain-client.ts";
import { SwitchboardBenchClient } from "./clients/switchboard-client.ts";
import type {
  ChildMessage,
  ClientSpec,
  ConnectResult,
  ParentMessage,
  Progress,
  Receipts,
  SendResult,
  StormClient,
  WorkerRequest,
} from "./ipc.ts";
import { now, readStamp, stampText } from "./stamp.ts";
import { Tally } from "./tally.ts";

/**
 * One load-generator process (forked by LoadGenerator): it holds a share of
 * the clients, sends on command, and counts what its clients receive. Each
 * request from the coordinator gets one reply.
 */

const WORKER = Number(process.env.SB_BENCH_WORKER ?? 0);

/** Which (worker, seq) messages one client has shown, as bitmaps that grow. */
class SeenMessages {
  private readonly bits: Uint8Array[] = [];

  /** Marks the message; false when it was marked before. */
  mark(worker: number, seq: number): boolean {
    let map = this.bits[worker];
    const byte = seq >> 3;
    if (map === undefined || byte >= map.length) {
      const grown = new Uint8Array(Math.max(64, (byte + 1) * 2));
      if (map !== undefined) grown.set(map);
      this.bits[worker] = grown;
      map = grown;
    }
    const bit = 1 << (seq & 7);
    const old = map[byte] ?? 0;
    if ((old & bit) !== 0) return false;
    map[byte] = old | bit;
    return true;
  }
}

interface StormRecord {
  instanceBefore: string | undefined;
  lostAt: number | undefined;
  backAt: number | undefined;
  attempts: number;
}

/** Every client this worker made, by local index; closed ones leave a hole. */
const clients: (BenchClient | undefined)[] = [];
let currentWindow = { tag: "", step: -1 };
let seen: (SeenMessages | undefined)[] = [];
let receipts = new Tally();
let seq = 0;
const roundRobin = new Map<string, number>();
let storm: StormRecord[] | undefined;

function live(group?: string): BenchClient[] {
  return clients.filter(
    (c): c is BenchClient => c !== undefined && (group === undefined || c.spec.group === group),
  );
}

const hooks: ClientHooks = {
  delivered(client, text, replayed, serverTs) {
    const at = now();
    const stamp = readStamp(text);
    if (stamp === undefined) return;
    if (stamp.tag !== currentWindow.tag || stamp.step !== currentWindow.step) {
      // An earlier window's message: late when it arrives live, history when in a reload.
      if (!replayed) receipts.late += 1;
      return;
    }
    const record = seen[client];
    if (record === undefined) return;
    if (record.mark(stamp.worker, stamp.seq)) {
      receipts.unique += 1;
      const latency = at - stamp.sentAt;
      receipts.latency.record(latency);
      const here = clients[client]?.instance;
      const same = here !== undefined && here === stamp.instance;
      (same ? receipts.sameInstance : receipts.otherInstances).record(latency);
      if (Number.isFinite(serverTs)) {
        receipts.toServer.record(serverTs - stamp.sentAt);
        receipts.fromServer.record(at - serverTs);
      }
    } else {
      receipts.duplicates += 1;
    }
  },
  status(client, connected) {
    const record = storm?.[client];
    if (record === undefined) return;
    const at = now();
    if (!connected && record.lostAt === undefined) record.lostAt = at;
    if (connected && record.lostAt !== undefined && record.backAt === undefined) {
      record.backAt = at;
    }
  },
  attempt(client) {
    const record = storm?.[client];
    if (record !== undefined) record.attempts += 1;
  },
  sendError() {
    receipts.sendErrors += 1;
  },
  reset() {
    receipts.resets += 1;
  },
  presence(_client, countOnly) {
    receipts.presenceFrames += 1;
    if (countOnly) receipts.presenceCountFrames += 1;
  },
};

/** An error with its cause, which says why for Node's "fetch failed" (a reset, a timeout). */
function describeError(error: unknown): string {
  const cause = error instanceof Error ? error.cause : undefined;
  if (cause === undefined) return String(error);
  const code = typeof cause === "object" && cause !== null && "code" in cause ? cause.code : "";
  return `${String(error)} (${String(code)}: ${cause instanceof Error ? cause.message : String(cause)})`;
}

function makeClient(spec: ClientSpec, local: number): BenchClient {
  if (spec.system === "switchboard") return new SwitchboardBenchClient(spec, local, hooks);
  if (spec.system === "plain") return new PlainBenchClient(spec, local, hooks);
  return new CeilingBenchClient(spec, local, hooks);
}

async function connect(request: Extract<WorkerRequest, { kind: "connect" }>) {
  const started = now();
  const first = clients.length;
  const fresh = request.clients.map((spec, i) => makeClient(spec, first + i));
  clients.push(...fresh);
  seen.push(...fresh.map(() => new SeenMessages()));
  let next = 0;
  let connected = 0;
  const errors: string[] = [];
  const one = async (client: BenchClient) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error("timed out")), request.timeoutMs);
    });
    try {
      await Promise.race([client.start(), timeout]);
      connected += 1;
    } catch (error) {
      if (errors.length < 5) errors.push(`client ${client.spec.index}: ${describeError(error)}`);
    } finally {
      clearTimeout(timer);
    }
  };
  const lane = async () => {
    for (let i = next++; i < fresh.length; i = next++) {
      const client = fresh[i];
      if (client !== undefined) await one(client);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, request.concurrency) }, lane));
  const byInstance: Record<string, number> = {};
  for (const client of fresh) {
    if (!client.connected) continue;
    const id = client.instance ?? "unknown";
    byInstance[id] = (byInstance[id] ?? 0) + 1;
  }
  const result: ConnectResult = {
    connected,
    failed: fresh.length - connected,
    errors,
    durationMs: now() - started,
    byInstance,
  };
  return result;
}

function send(group: string, count: number, durationMs: number): Promise<SendResult> {
  const result: SendResult = { sent: 0, sentByRoom: {}, whileDisconnected: 0, lagMs: 0 };
  const senders = live(group);
  if (count <= 0 || senders.length === 0) return Promise.resolve(result);
  const interval = durationMs / count;
  const started = now();
  return new Promise((resolve) => {
    const tick = () => {
      const elapsed = now() - started;
      const due = Math.min(count, Math.floor(elapsed / interval) + 1);
      while (result.sent < due) {
        const turn = roundRobin.get(group) ?? 0;
        roundRobin.set(group, turn + 1);
        const client = senders[turn % senders.length];
        if (client === undefined) break;
        const rooms = client.spec.rooms;
        const room = rooms[result.sent % rooms.length] ?? "lobby";
        const text = stampText({
          tag: currentWindow.tag,
          step: currentWindow.step,
          worker: WORKER,
          seq: seq++,
          sentAt: now(),
          instance: client.instance ?? "",
        });
        if (!client.send(room, text)) result.whileDisconnected += 1;
        result.sentByRoom[room] = (result.sentByRoom[room] ?? 0) + 1;
        result.sent += 1;
        receipts.sent += 1;
        result.lagMs = Math.max(result.lagMs, elapsed - (result.sent - 1) * interval);
      }
      if (result.sent >= count) {
        resolve(result);
        return;
      }
      const wait = result.sent * interval - (now() - started);
      setTimeout(tick, Math.max(1, Math.min(5, wait)));
    };
    tick();
  });
}

function collect(): Receipts {
  const cpu = process.cpuUsage();
  return receipts.receipts((cpu.user + cpu.system) / 1e6);
}

function stormReport(group: string): StormClient[] {
  return clients.flatMap((client, i) => {
    if (client === undefined || client.spec.group !== group) return [];
    const record = storm?.[i];
    return {
      index: client.spec.index,
      instanceBefore: record?.instanceBefore,
      instanceNow: client.instance,
      connected: client.connected,
      lostAt: record?.lostAt,
      backAt: record?.backAt,
      attempts: record?.attempts ?? 0,
    };
  });
}

async function handle(request: WorkerRequest): Promise<unknown> {
  switch (request.kind) {
    case "connect":
      return connect(request);
    case "begin":
      currentWindow = { tag: request.tag, step: request.step };
      seen = clients.map((c) => (c === undefined ? undefined : new SeenMessages()));
      receipts = new Tally();
      seq = 0;
      return null;
    case "send":
      return send(request.group, request.count, request.durationMs);
    case "progress": {
      const progress: Progress = {
        unique: receipts.unique,
        late: receipts.late,
        connected: live().filter((client) => client.connected).length,
      };
      return progress;
    }
    case "collect":
      return collect();
    case "watch":
      storm = clients.map((client) => ({
        instanceBefore: client?.instance,
        lostAt: undefined,
        backAt: undefined,
        attempts: 0,
      }));
      return null;
    case "storm":
      return stormReport(request.group);
    case "close":
      clients.forEach((client, i) => {
        if (client === undefined) return;
        if (request.group !== undefined && client.spec.group !== request.group) return;
        client.close();
        clients[i] = undefined;
        seen[i] = undefined;
      });
      return null;
  }
}

function reply(message: ChildMessage): void {
  process.send?.(message);
}

process.on("message", (message: ParentMessage) => {
  handle(message.request).then(
    (result) => reply({ id: message.id, ok: true, result }),
    (error: unknown) => reply({ id: message.id, ok: false, error: String(error) }),
  );
});
// The coordinator went away: nothing left to do here.
process.on("disconnect", () => process.exit(0));
