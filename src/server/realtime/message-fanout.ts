import { BATCH_MAX, type Message } from "../../protocol/index.ts";
import type { Logger } from "../logger.ts";
import { countBusMessage } from "../metrics/registry.ts";
import type { MessageListener } from "../store/bus/message-bus.ts";
import type { ChatServer } from "./types.ts";

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
 */
export function deliverToSockets(io: ChatServer, log: Logger): MessageListener {
  let batch: Map<string, Message[]> | undefined;
  const flush = () => {
    const rooms = batch;
    batch = undefined;
    for (const [room, messages] of rooms ?? []) {
      try {
        emitTogether(io, room, messages);
      } catch (error) {
        log.error({ err: error, room }, "delivering messages failed");
      }
    }
  };
  return (message) => {
    countBusMessage();
    if (batch === undefined) {
      batch = new Map();
      queueMicrotask(flush);
    }
    const waiting = batch.get(message.room);
    if (waiting === undefined) batch.set(message.room, [message]);
    else waiting.push(message);
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
