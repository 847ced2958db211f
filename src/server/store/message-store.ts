import { randomBytes, randomUUID } from "node:crypto";
import { AppError, ErrorCode, type Message, type StreamPosition } from "../../protocol/index.ts";
import { type MessageBus, parseMessage } from "./bus/message-bus.ts";
import type { Keys } from "./keys.ts";
import { LuaScript, type SendCommand } from "./lua-script.ts";
import type { ReplicaAck } from "./replica-ack.ts";

const appendScript = new LuaScript("append-message");
const catchUpScript = new LuaScript("catch-up");

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
  /** Where the sender stood in the room when it first sent this clientId. */
  since?: StreamPosition | undefined;
}

/** A joining client's view of a room: where it stands, and what to show. */
export interface CatchUp extends RoomState {
  messages: Message[];
  /** False when the messages are the latest ones instead of the gap after the client's position. */
  recovered: boolean;
}

/** Raw reply of XRANGE/XREVRANGE: [id, [field, value, ...]][] */
type StreamEntries = [string, string[]][];

/** A room's history: a capped Redis Stream whose entry ids are the offsets. */
export class MessageStore {
  constructor(
    private readonly send: SendCommand,
    private readonly keys: Keys,
    private readonly historySize: number,
    private readonly bus: MessageBus,
    /**
     * When set, a message is acknowledged and published only once a replica
     * has it, so that no failover can take back what a client was shown.
     */
    private readonly replicaAck?: ReplicaAck,
  ) {}

  /**
   * Stores a message once per (room, clientId) and publishes it to every
   * instance watching the room: in the same atomic step when the bus can be
   * reached from Redis and no replica must have it first, else right after.
   * `created` is false for a resend whose message is still in the history. A
   * clientId is remembered as long as its message is in the history; a resend
   * from a position that the history no longer reaches is refused with
   * `resend_expired` (it may have been stored).
   */
  async append(input: AppendInput): Promise<{ message: Message; created: boolean }> {
    const k = this.keys.room(input.room);
    const mark = this.replicaAck?.mark(k.log);
    const target = this.replicaAck === undefined ? this.bus.scriptTarget(input.room) : undefined;
    const [outcome, json] = await appendScript.run<[number, string]>(
      this.send,
      [k.log, k.seq, k.epoch, k.dedup],
      [
        newEpoch(),
        randomUUID(),
        input.room,
        input.user,
        input.text,
        Date.now(),
        input.clientId,
        this.historySize,
        input.since === undefined ? "" : `${input.since.epoch}:${input.since.offset}`,
        target?.channel ?? "",
        target?.command ?? "PUBLISH",
      ],
    );
    if (outcome === 2) {
      throw new AppError(
        ErrorCode.ResendExpired,
        "this message was sent before the oldest message the room keeps; whether it was stored can no longer be told, so it was not stored again",
      );
    }
    const message = parseMessage(json);
    if (this.replicaAck !== undefined) {
      // WAIT counts the replicas that have every write this connection made.
      // A resend found stored wrote nothing here, and the first attempt may
      // have come through another instance's connection: a write that changes
      // nothing (INCRBY 0 of the room's counter) puts this connection's mark
      // behind it in the replication stream.
      if (outcome !== 1) await this.send(["INCRBY", k.seq, "0"], k.log);
      await this.replicaAck.confirm(mark, k.log);
    }
    // A resend is published again when replication gates publishing: the
    // first attempt may have stopped before its publish.
    if (target === undefined && (outcome === 1 || this.replicaAck !== undefined)) {
      await this.bus.publish(message);
    }
    return { message, created: outcome === 1 };
  }

  /**
   * What a client (re)joining the room needs, in one round trip: the room's
   * epoch (made when it has none) and latest offset, and the messages after
   * `since` when they can be replayed (`recovered`), else the latest `latest`
   * (a fresh join, another epoch, or history trimmed past the position).
   */
  async catchUp(
    room: string,
    since: { epoch: string; offset: number } | undefined,
    page: number,
    latest: number,
  ): Promise<CatchUp> {
    const k = this.keys.room(room);
    const [epoch, offset, mode, entries] = await catchUpScript.run<
      [string, number, "current" | "replay" | "latest", StreamEntries]
    >(
      this.send,
      [k.log, k.seq, k.epoch],
      [newEpoch(), since?.epoch ?? "", since?.offset ?? 0, page, latest],
    );
    const messages = entries.map(entryMessage);
    if (mode === "latest") messages.reverse();
    return { epoch, offset, messages, recovered: mode !== "latest" };
  }

  /** Up to `count` messages with an offset above `after`, oldest first. */
  async after(room: string, after: number, count: number): Promise<Message[]> {
    const k = this.keys.room(room);
    const entries = await this.send<StreamEntries>(
      ["XRANGE", k.log, `${after + 1}-0`, "+", "COUNT", String(count)],
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

/** The message of an XRANGE/XREVRANGE entry of a room's log. */
export function entryMessage(entry: [string, string[]]): Message {
  const fields = entry[1];
  const index = fields.indexOf("m");
  const json = index >= 0 ? fields[index + 1] : undefined;
  if (json === undefined) throw new Error(`stream entry ${entry[0]} has no message`);
  return parseMessage(json);
}
