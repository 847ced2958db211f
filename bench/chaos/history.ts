import { createClient } from "redis";
import type { Message } from "../../src/protocol/index.ts";
import { Keys } from "../../src/server/store/keys.ts";
import { entryMessage } from "../../src/server/store/message-store.ts";

/** Reads what Redis stored: the ground truth the clients are checked against. */
export class StoredHistory {
  private readonly keys: Keys;

  private constructor(
    private readonly client: ReturnType<typeof createClient>,
    prefix: string,
  ) {
    this.keys = new Keys(prefix);
  }

  static async connect(url: string, prefix = "sb"): Promise<StoredHistory> {
    const client = createClient({ url, socket: { reconnectStrategy: () => 100 } });
    client.on("error", () => undefined);
    await client.connect();
    return new StoredHistory(client, prefix);
  }

  /** The latest offset of each room. */
  async latest(rooms: readonly string[]): Promise<Map<string, number>> {
    const values = await this.client.mGet(rooms.map((room) => this.keys.room(room).seq));
    return new Map(rooms.map((room, i) => [room, Number(values[i] ?? 0)]));
  }

  /** Every message kept for the room, oldest first. */
  async all(room: string): Promise<Message[]> {
    const entries = (await this.client.sendCommand([
      "XRANGE",
      this.keys.room(room).log,
      "-",
      "+",
    ])) as [string, string[]][];
    return entries.map(entryMessage);
  }

  async close(): Promise<void> {
    await this.client.close().catch(() => this.client.destroy());
  }
}
