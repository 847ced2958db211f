import { randomBytes, randomUUID } from "node:crypto";
import { AppError, ErrorCode, type Message, type StreamPosition } from "../../protocol/index.ts";
import { type MessageBus, parseMessage } from "./bus/message-bus.ts";
import { connectedReplicas } from "./connections/shared.ts";
import type { Keys } from "./keys.ts";
import { LuaScript, type SendCommand } from "./lua-script.ts";
import { isTransientRedisError } from "./redis-errors.ts";

const appendScript = new LuaScript("append-message");
/** How long after a failure to reach a master sends ask whether their master has a replica before WAIT. */
const AFTER_TROUBLE_MS = 30_000;
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
     * has it (WAIT on the connection that stored it), so that no failover can
     * take back what a client was shown.
     */
    private readonly replicaAck?: {
      timeoutMs: number;
      /**
       * True: without a replica's confirmation a send is refused. False
       * ("auto"): a master that has no replica left (its replica was promoted
       * after a failover, and none has come back yet) acknowledges alone.
       */
      required: boolean;
    },
  ) {}

  /**
   * Rooms whose master was found with no replica at all (in "auto"), so that
   * their sends skip a WAIT that could only time out, as long as that lasts.
   */
  private readonly withoutReplicas = new Set<string>();

  /** After a WAIT that no replica answered: true when the room's master has none left (and "auto" allows that). */
  private async noReplicaLeft(room: string, key: string): Promise<boolean> {
    if (this.replicaAck?.required !== false) return false;
    const none = connectedReplicas(await this.send<string>(["INFO", "replication"], key)) === 0;
    if (none) this.withoutReplicas.add(room);
    return none;
  }

  /** When a send last failed for want of a master (0: never). */
  private troubleAt = 0;

  /**
   * True while the room's master has no replica, as far as is worth asking:
   * for rooms whose master was found alone before, and for every room shortly
   * after a failure to reach a master. A replica that was just promoted has
   * no replica of its own, and a WAIT there could only time out; one INFO
   * instead saves the first sends after a failover that wait.
   */
  private async aloneWithoutReplicas(room: string, key: string): Promise<boolean> {
    if (this.replicaAck?.required !== false) return false;
    const suspect =
      this.withoutReplicas.has(room) || Date.now() - this.troubleAt < AFTER_TROUBLE_MS;
    if (!suspect) return false;
    if (connectedReplicas(await this.send<string>(["INFO", "replication"], key)) === 0) {
      this.withoutReplicas.add(room);
      return true;
    }
    this.withoutReplicas.delete(room);
    return false;
  }

  /** Per room: the WAIT running now, and the one that will cover what was written meanwhile. */
  private readonly waits = new Map<
    string,
    { running?: Promise<number>; queued?: Promise<number> }
  >();

  /**
   * How many replicas have this connection's writes so far, one WAIT at a
   * time per room. WAIT holds the connection until it answers, and every
   * command behind it waits too: one WAIT per send, each timing out after a
   * failover left the master alone, queued the connection into minutes of
   * backlog under a few hundred clients. A WAIT covers every write the
   * connection made before it, so sends that come while one runs share the
   * next.
   */
  private replicated(room: string, key: string, timeout: string): Promise<number> {
    let group = this.waits.get(room);
    if (group === undefined) {
      group = {};
      this.waits.set(room, group);
    }
    const slot = group;
    const start = (): Promise<number> => {
      const running = this.send<number>(["WAIT", "1", timeout], key).finally(() => {
        if (slot.running === running) slot.running = undefined;
        if (slot.running === undefined && slot.queued === undefined) this.waits.delete(room);
      });
      slot.running = running;
      return running;
    };
    if (slot.running === undefined) return start();
    slot.queued ??= slot.running
      .catch(() => undefined)
      .then(() => {
        slot.queued = undefined;
        return start();
      });
    return slot.queued;
  }

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
    try {
      return await this.store(input);
    } catch (error) {
      if (isTransientRedisError(error)) this.troubleAt = Date.now();
      throw error;
    }
  }

  private async store(input: AppendInput): Promise<{ message: Message; created: boolean }> {
    const k = this.keys.room(input.room);
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
      const timeout = String(this.replicaAck.timeoutMs);
      if (!(await this.aloneWithoutReplicas(input.room, k.log))) {
        const replicas = await this.replicated(input.room, k.log, timeout);
        if (replicas < 1 && !(await this.noReplicaLeft(input.room, k.log))) {
          throw new AppError(ErrorCode.Unavailable, "no replica confirmed the message yet; retry");
        }
      }
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
