import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { pino } from "pino";
import { dataNodeArgs, RedisNode } from "../src/cluster/redis/node.ts";
import { waitUntil } from "../src/process/index.ts";
import { AppError, ErrorCode, type Message } from "../src/protocol/index.ts";
import { MemoryBroker } from "../src/server/store/bus/memory-bus.ts";
import { connectRedis } from "../src/server/store/connections/index.ts";
import { onlineReplicas } from "../src/server/store/connections/shared.ts";
import { Keys } from "../src/server/store/keys.ts";
import { MessageStore } from "../src/server/store/message-store.ts";
import type { RedisConnections } from "../src/server/store/redis-connection.ts";
import { ReplicaAck } from "../src/server/store/replica-ack.ts";

const keys = new Keys("sb");

/**
 * The acknowledgement a replica backs (REDIS_REPLICA_ACK), on a real master
 * and replica: what a sender is told, and what the replica holds then.
 */
describe("replica acknowledgement", () => {
  let master: RedisNode;
  let replica: RedisNode;
  let redis: RedisConnections;
  let dir: string;
  const published: Message[] = [];
  const bus = new MemoryBroker();
  let watcher: ReturnType<MemoryBroker["bus"]>;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "sb-replica-ack-"));
    const first = await dataNodeArgs(dir);
    master = await RedisNode.start(first.port, first.args);
    const second = await dataNodeArgs(dir);
    replica = await RedisNode.start(second.port, [
      ...second.args,
      "--replicaof",
      "127.0.0.1",
      String(first.port),
    ]);
    redis = await connectRedis({ mode: "single", url: master.url }, pino({ level: "silent" }));
    await replicaOnline(1);
    watcher = bus.bus((message) => published.push(message));
  });

  after(async () => {
    if (replica?.pid !== undefined && replica.running) process.kill(replica.pid, "SIGCONT");
    await redis?.close();
    await Promise.all([replica?.stop("SIGKILL"), master?.stop("SIGKILL")]);
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  async function replicaOnline(count: number): Promise<void> {
    await waitUntil(
      async () => onlineReplicas(await redis.send<string>(["INFO", "replication"], "x")) === count,
      { timeoutMs: 15_000, what: `${count} replica(s) online` },
    );
  }

  /** `timeoutMs`: short where a WAIT must time out, long where a busy machine must not make it. */
  function store(required: boolean, timeoutMs = 300): MessageStore {
    const ack = new ReplicaAck(redis.send, redis.connectionMark, { timeoutMs, required });
    return new MessageStore(
      redis.send,
      keys,
      100,
      bus.bus(() => undefined),
      ack,
    );
  }

  async function waits(): Promise<number> {
    const stats = await redis.send<string>(["INFO", "commandstats"], "x");
    return Number(/cmdstat_wait:calls=(\d+)/.exec(stats)?.[1] ?? 0);
  }

  async function onReplica(room: string): Promise<string[]> {
    const client = await connectRedis(
      { mode: "single", url: replica.url },
      pino({ level: "silent" }),
    );
    try {
      const entries = await client.send<[string, string[]][]>(
        ["XRANGE", keys.room(room).log, "-", "+"],
        keys.room(room).log,
      );
      return entries.map(([, fields]) => (JSON.parse(fields[1] ?? "{}") as Message).text);
    } finally {
      await client.close();
    }
  }

  test("an acknowledged message is on the replica already", async () => {
    const messages = store(true, 10_000);
    await watcher.watch("acked");
    const { message } = await messages.append({
      room: "acked",
      user: "ann",
      text: "kept twice",
      clientId: "c-acked",
    });
    assert.equal(message.offset, 1);
    assert.deepEqual(await onReplica("acked"), ["kept twice"]);
    await waitUntil(async () => published.some((m) => m.clientId === "c-acked"), {
      timeoutMs: 2000,
      what: "the message published",
    });
  });

  test("sends in thirty rooms while the replica holds back share one WAIT at a time, are refused as retryable, and go through once the replica answers", async () => {
    const messages = store(false);
    const rooms = Array.from({ length: 30 }, (_, i) => `held-${i}`);
    for (const room of rooms) await watcher.watch(room);
    const before = await waits();
    process.kill(replica.pid as number, "SIGSTOP");
    try {
      const answers = await Promise.allSettled(
        rooms.map((room) =>
          messages.append({ room, user: "ann", text: `to ${room}`, clientId: `c-${room}` }),
        ),
      );
      for (const answer of answers) {
        assert.equal(answer.status, "rejected");
        assert.ok(answer.reason instanceof AppError);
        assert.equal(answer.reason.code, ErrorCode.Unavailable);
      }
      // One WAIT per room would have held the connection thirty times 300 ms.
      assert.ok((await waits()) - before <= 2, `${(await waits()) - before} WAITs`);
      assert.equal(published.filter((m) => m.room.startsWith("held-")).length, 0);
    } finally {
      process.kill(replica.pid as number, "SIGCONT");
    }
    // The client sends again with the same clientId: stored once, shown once.
    const patient = store(false, 10_000);
    const again = await Promise.all(
      rooms.map((room) =>
        patient.append({ room, user: "ann", text: `to ${room}`, clientId: `c-${room}` }),
      ),
    );
    assert.deepEqual(
      again.map((sent) => [sent.message.offset, sent.created]),
      rooms.map(() => [1, false]),
    );
    await waitUntil(async () => published.filter((m) => m.room.startsWith("held-")).length === 30, {
      timeoutMs: 2000,
      what: "thirty messages published",
    });
    assert.deepEqual(await onReplica("held-7"), ["to held-7"]);
  });

  test("with no replica online, a required acknowledgement is refused at once and auto acknowledges alone", async () => {
    await replica.stop("SIGKILL");
    await replicaOnline(0);
    const before = await waits();
    await assert.rejects(
      store(true).append({ room: "alone", user: "ann", text: "needs a copy", clientId: "c-on" }),
      (error: unknown) => error instanceof AppError && error.code === ErrorCode.Unavailable,
    );
    const { message } = await store(false).append({
      room: "alone",
      user: "ann",
      text: "needs a copy",
      clientId: "c-on",
    });
    assert.equal(message.offset, 1);
    assert.equal((await waits()) - before, 0, "no WAIT on a master without replicas");
  });
});
