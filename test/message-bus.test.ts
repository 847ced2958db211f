import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { pino } from "pino";
import type { Message } from "../src/protocol/index.ts";
import type { RedisTarget } from "../src/server/config.ts";
import { MemoryBroker } from "../src/server/store/bus/memory-bus.ts";
import type { MessageBus, MessageListener } from "../src/server/store/bus/message-bus.ts";
import { redisMessageBus } from "../src/server/store/bus/redis-bus.ts";
import { connectRedis } from "../src/server/store/connections/index.ts";
import { Keys } from "../src/server/store/keys.ts";
import type { RedisConnections } from "../src/server/store/redis-connection.ts";
import { redisModes, startTopology, type TestTopology } from "./helpers/redis-topology.ts";

/** Makes a bus for one "instance"; every bus of one transport reaches the others. */
type BusFactory = (listener: MessageListener) => Promise<MessageBus>;

function message(room: string, offset: number): Message {
  return {
    id: `${room}-${offset}`,
    room,
    offset,
    epoch: "e1",
    user: "ann",
    text: `m${offset}`,
    ts: Date.now(),
    clientId: `c${offset}`,
  };
}

/** Collects what a bus delivers; `settled` waits until nothing has come for a moment. */
function inbox() {
  const got: Message[] = [];
  return {
    got,
    listener: (m: Message) => got.push(m),
    async until(count: number, timeoutMs = 3000) {
      const deadline = Date.now() + timeoutMs;
      while (got.length < count && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      // Anything extra (a duplicate) would come right behind.
      await new Promise((resolve) => setTimeout(resolve, 100));
      return got.map((m) => `${m.room}#${m.offset}`);
    },
  };
}

/** The contract every message bus keeps, run on each implementation. */
function busContract(name: string, factory: () => BusFactory) {
  describe(`message bus: ${name}`, () => {
    test("a watched room's messages reach every watcher once, in order; other rooms' do not", async () => {
      const make = factory();
      const [x, y] = [inbox(), inbox()];
      const [busX, busY] = await Promise.all([make(x.listener), make(y.listener)]);
      await busX.watch("lobby");
      await busY.watch("lobby");
      await busY.watch("other");
      for (let offset = 1; offset <= 5; offset++) await busX.publish(message("lobby", offset));
      await busX.publish(message("other", 1));
      assert.deepEqual(await x.until(5), ["lobby#1", "lobby#2", "lobby#3", "lobby#4", "lobby#5"]);
      assert.deepEqual(await y.until(6), [
        "lobby#1",
        "lobby#2",
        "lobby#3",
        "lobby#4",
        "lobby#5",
        "other#1",
      ]);
      await Promise.all([busX.close(), busY.close()]);
    });

    test("watches are counted: the room's messages stop after the last unwatch", async () => {
      const make = factory();
      const [x, sender] = [inbox(), inbox()];
      const [busX, busSender] = await Promise.all([make(x.listener), make(sender.listener)]);
      await busX.watch("counted");
      await busX.watch("counted");
      await busX.unwatch("counted");
      await busSender.publish(message("counted", 1));
      assert.deepEqual(await x.until(1), ["counted#1"]);
      await busX.unwatch("counted");
      await busSender.publish(message("counted", 2));
      assert.deepEqual(await x.until(2, 300), ["counted#1"]);
      await Promise.all([busX.close(), busSender.close()]);
    });
  });
}

busContract("in-process", () => {
  const broker = new MemoryBroker();
  return async (listener) => broker.bus(listener);
});

const log = pino({ level: "silent" });
for (const mode of redisModes()) {
  describe(`on ${mode} Redis`, () => {
    let topology: TestTopology;
    const connections: RedisConnections[] = [];
    before(async () => {
      topology = await startTopology(mode);
    });
    after(async () => {
      await Promise.all(connections.map((connection) => connection.close()));
      await topology?.close();
    });
    busContract(`${mode} Redis`, () => async (listener) => {
      const env = topology.env;
      const target: RedisTarget =
        mode === "single"
          ? { mode, url: env.REDIS_URL ?? "" }
          : mode === "sentinel"
            ? {
                mode,
                sentinels: (env.REDIS_SENTINELS ?? "").split(","),
                masterName: env.REDIS_SENTINEL_MASTER ?? "",
              }
            : { mode, nodes: (env.REDIS_CLUSTER_NODES ?? "").split(",") };
      const redis = await connectRedis(target, log);
      connections.push(redis);
      return redisMessageBus(redis.pubsub, new Keys("bus-test"), listener, log);
    });
  });
}
