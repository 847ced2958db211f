import { BATCH_MAX, type Message, REPLAY_PAGE } from "../../protocol/index.ts";
import type { Logger } from "../logger.ts";
import type { MessageListener } from "../store/bus/message-bus.ts";
import type { ChatServer } from "./types.ts";

/** Reads up to `count` stored messages of a room with an offset above `after`, oldest first. */
export type MissedReader = (room: string, after: number, count: number) => Promise<Message[]>;

/** Waits between attempts to read what a room missed while Redis still fails over. */
const CATCH_UP_RETRY_MS = [200, 500, 1000, 2000, 2000, 2000, 2000];

export interface MessageFanout {
  /** Where the bus hands each message it brings; delivered to the room's local sockets. */
  readonly deliver: MessageListener;
  /**
   * The room's subscription was made again (the pub/sub connection moved to
   * a new master, reconnected, or a sharded subscription was restored):
   * what was published meanwhile never arrived. Reads the room's history
   * after the last offset delivered here and delivers it the usual way;
   * clients keep one message per offset, so what did arrive is not shown twice.
   */
  resubscribed(room: string): void;
  /**
   * A socket joined the room with the history up to `offset`: the position to
   * catch up from if nothing has been delivered in the room here yet.
   */
  joined(room: string, epoch: string, offset: number): void;
}

/**
 * Delivers the messages the bus brings to this instance's sockets in their
 * room. Messages that arrive together (one read of the subscriber's
 * connection: Redis had several queued for this instance, as happens under
 * load) go out together, one `messages` event per
 * room instead of one `message` event per message, so every socket, the
 * router and the browser handle one frame where they would handle many.
 * Nothing waits for company: the batch goes out in a microtask, once the
 * read's messages are parsed, so a message that arrives alone is emitted
 * as soon as before, as a `message`.
 *
 * It remembers the last offset it delivered per room, for as long as the
 * room has local sockets, so that a subscription made again can be followed
 * by what it missed.
 */
export function messageFanout(
  io: ChatServer,
  readMissed: MissedReader,
  log: Logger,
): MessageFanout {
  const positions = new Map<string, { epoch: string; offset: number }>();
  const hasSockets = (room: string) => (io.of("/").adapter.rooms.get(room)?.size ?? 0) > 0;
  let batch: Map<string, Message[]> | undefined;
  const flush = () => {
    const rooms = batch;
    batch = undefined;
    for (const [room, messages] of rooms ?? []) {
      // A room nobody here is in any more needs no position: the map stays as big as the rooms in use.
      if (!hasSockets(room)) {
        positions.delete(room);
        continue;
      }
      try {
        emitTogether(io, room, messages);
      } catch (error) {
        log.error({ err: error, room }, "delivering messages failed");
      }
    }
  };
  const deliver: MessageListener = (message) => {
    const known = positions.get(message.room);
    // A new epoch (the room's keys were lost and made again) starts counting anew.
    if (known === undefined || known.epoch !== message.epoch || known.offset < message.offset) {
      positions.set(message.room, { epoch: message.epoch, offset: message.offset });
    }
    if (batch === undefined) {
      batch = new Map();
      queueMicrotask(flush);
    }
    const waiting = batch.get(message.room);
    if (waiting === undefined) batch.set(message.room, [message]);
    else waiting.push(message);
  };

  const catchUp = async (room: string) => {
    for (let attempt = 0; ; attempt++) {
      const from = positions.get(room);
      if (from === undefined || !hasSockets(room)) return;
      try {
        const missed = await readMissed(room, from.offset, REPLAY_PAGE);
        if (missed.length > 0) {
          log.info(
            { room, after: from.offset, missed: missed.length },
            "delivering what a resubscription missed",
          );
        }
        for (const message of missed) deliver(message);
        return;
      } catch (error) {
        const wait = CATCH_UP_RETRY_MS[attempt];
        if (wait === undefined) {
          // The clients find the gap themselves with the room's next message or their next reconnect.
          log.warn({ err: error, room }, "reading what a resubscription missed failed");
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
    }
  };

  return {
    deliver,
    resubscribed(room) {
      void catchUp(room);
    },
    joined(room, epoch, offset) {
      if (!positions.has(room)) positions.set(room, { epoch, offset });
    },
  };
}

/** Emits a room's messages, in the order they came, in as few frames as `BATCH_MAX` allows. */
function emitTogether(io: ChatServer, room: string, messages: Message[]): void {
  const sockets = io.local.to(room);
  const [only] = messages;
  if (messages.length === 1 && only !== undefined) {
    sockets.emit("message", only);
    return;
  }
  for (let start = 0; start < messages.length; start += BATCH_MAX) {
    sockets.emit("messages", { room, messages: messages.slice(start, start + BATCH_MAX) });
  }
}
