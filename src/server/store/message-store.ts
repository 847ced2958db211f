import { randomBytes, randomUUID } from "node:crypto";
import type { Message } from "../../protocol/index.ts";
import type { Keys } from "./keys.ts";
import { LuaScript, type SendCommand } from "./lua-script.ts";

const appendScript = new LuaScript("append-message");

/** How long a clientId is remembered, so that a resend after a crash is not stored twice. */
const DEDUP_TTL_SECONDS = 24 * 60 * 60;

export interface RoomState {
  epoch: string;
  /** Latest offset in the room; 0 when it has none. */
  offset: number;
}

export interface AppendInput {
  room: string;
  user: string;
  text: string;
  clientId: string;
}

/** Raw reply of XRANGE/XREVRANGE: [id, [field, value, ...]][] */
type StreamEntries = [string, string[]][];

/** A room's history: a capped Redis Stream whose entry ids are the offsets. */
export class MessageStore {
  constructor(
    private readonly send: SendCommand,
    private readonly keys: Keys,
    private readonly historySize: number,
    /** "shared": one channel for all rooms (one Redis); "room": a sharded channel per room (Cluster). */
    private readonly channels: "shared" | "room" = "shared",
  ) {}

  /**
   * Stores a message once per (room, clientId) and publishes it to every
   * instance, in one atomic step. `created` is false for a resend.
   */
  async append(input: AppendInput): Promise<{ message: Message; created: boolean }> {
    const k = this.keys.room(input.room);
    const [created, json] = await appendScript.run<[number, string]>(
      this.send,
      [k.log, k.seq, k.epoch, k.dedup(input.clientId)],
      [
        newEpoch(),
        randomUUID(),
        input.room,
        input.user,
        input.text,
        Date.now(),
        input.clientId,
        this.historySize,
        DEDUP_TTL_SECONDS,
        this.channels === "shared" ? this.keys.messageChannel : this.keys.roomChannel(input.room),
        this.channels === "shared" ? "PUBLISH" : "SPUBLISH",
      ],
    );
    return { message: parseMessage(json), created: created === 1 };
  }

  /** The room's epoch (created when it has none) and latest offset. */
  async state(room: string): Promise<RoomState> {
    const k = this.keys.room(room);
    // SET NX then GET: a room that never had a message still needs a stable epoch.
    await this.send(["SET", k.epoch, newEpoch(), "NX"], k.epoch);
    const [epoch, seq] = await this.send<[string | null, string | null]>(
      ["MGET", k.epoch, k.seq],
      k.epoch,
    );
    return { epoch: epoch ?? "", offset: seq === null ? 0 : Number(seq) };
  }

  /** The last `count` messages, oldest first. */
  async latest(room: string, count: number): Promise<Message[]> {
    const k = this.keys.room(room);
    const entries = await this.send<StreamEntries>(
      ["XREVRANGE", k.log, "+", "-", "COUNT", String(count)],
      k.log,
    );
    return entries.map(entryMessage).reverse();
  }

  /** Up to `count` messages with an offset above `offset`, oldest first. */
  async after(room: string, offset: number, count: number): Promise<Message[]> {
    const k = this.keys.room(room);
    const entries = await this.send<StreamEntries>(
      ["XRANGE", k.log, `${offset + 1}-0`, "+", "COUNT", String(count)],
      k.log,
    );
    return entries.map(entryMessage);
  }

  /** Up to `count` messages with an offset below `before`, oldest first. */
  async before(room: string, before: number, count: number): Promise<Message[]> {
    if (before <= 1) return [];
    const k = this.keys.room(room);
    const entries = await this.send<StreamEntries>(
      ["XREVRANGE", k.log, `${before - 1}-0`, "-", "COUNT", String(count)],
      k.log,
    );
    return entries.map(entryMessage).reverse();
  }
}

function newEpoch(): string {
  return randomBytes(6).toString("hex");
}

function entryMessage(entry: [string, string[]]): Message {
  const fields = entry[1];
  const index = fields.indexOf("m");
  const json = index >= 0 ? fields[index + 1] : undefined;
  if (json === undefined) throw new Error(`stream entry ${entry[0]} has no message`);
  return parseMessage(json);
}

/** Messages were encoded by our own Lua script, so their shape is known. */
export function parseMessage(json: string): Message {
  return JSON.parse(json) as Message;
}
