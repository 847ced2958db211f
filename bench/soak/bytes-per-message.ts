/**
 * Redis bytes per message once every room's history is full: the figure that
 * says whether Redis grows with the number of messages sent or only with the
 * number of rooms. Runs the store's own append path (the Lua script an
 * instance runs) against a Redis of its own.
 *
 *   node --import tsx bench/soak/bytes-per-message.ts [--rooms 4] [--history 200] [--messages 20000] [--text 100]
 */
import { parseArgs } from "node:util";
import { createClient } from "redis";
import { RedisServer } from "../../src/cluster/redis/server.ts";
import { MemoryBroker } from "../../src/server/store/bus/memory-bus.ts";
import { Keys } from "../../src/server/store/keys.ts";
import { MessageStore } from "../../src/server/store/message-store.ts";

const { values } = parseArgs({
  options: {
    rooms: { type: "string", default: "4" },
    history: { type: "string", default: "200" },
    messages: { type: "string", default: "20000" },
    text: { type: "string", default: "100" },
  },
});
const rooms = Number(values.rooms);
const history = Number(values.history);
const messages = Number(values.messages);
const text = "x".repeat(Number(values.text));

/** Redis's used_memory, and what its keys hold by MEMORY USAGE (no buffers). */
async function footprint(redis: ReturnType<typeof createClient>) {
  const info = await redis.info("memory");
  const used = Number(/used_memory:(\d+)/.exec(info)?.[1]);
  const keys = await redis.keys("*");
  let inKeys = 0;
  for (const key of keys) {
    inKeys += Number(await redis.sendCommand(["MEMORY", "USAGE", key, "SAMPLES", "0"]));
  }
  return { used, inKeys, keys: keys.length };
}

const server = await RedisServer.start({ persistence: false });
const redis = createClient({ url: server.url });
try {
  await redis.connect();
  const send = <T>(args: string[]) => redis.sendCommand(args) as Promise<T>;
  // Nobody listens: the figure is what Redis keeps, and a publish keeps nothing.
  const bus = new MemoryBroker().bus(() => {});
  const store = new MessageStore(send, new Keys("sb"), history, bus);
  let n = 0;
  const append = async (count: number) => {
    // A few in flight per room, as several senders would have.
    for (let done = 0; done < count; done += rooms * 8) {
      await Promise.all(
        Array.from({ length: Math.min(rooms * 8, count - done) }, (_unused, i) => {
          n += 1;
          return store.append({
            room: `room-${i % rooms}`,
            user: `user-${i % 50}`,
            text,
            clientId: `c${n.toString(36)}${"0".repeat(20)}`,
          });
        }),
      );
    }
  };
  // Twice the history per room, so that every room has been trimmed already.
  await append(rooms * history * 2);
  const full = await footprint(redis);
  await append(messages);
  const after = await footprint(redis);
  const per = (a: number, b: number) => ((a - b) / messages).toFixed(2);
  console.log(
    [
      `rooms ${rooms}, HISTORY_SIZE ${history}, ${text.length}-character messages`,
      `history full:   used_memory ${full.used} B, keys hold ${full.inKeys} B, ${full.keys} keys`,
      `${messages} more: used_memory ${after.used} B, keys hold ${after.inKeys} B, ${after.keys} keys`,
      `per message:    used_memory ${per(after.used, full.used)} B, keys ${per(after.inKeys, full.inKeys)} B, ${per(after.keys, full.keys)} keys`,
    ].join("\n"),
  );
} finally {
  await redis.close().catch(() => undefined);
  await server.close();
}
