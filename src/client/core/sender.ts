import type { Message, Result } from "../../protocol/index.ts";
import type { ClientEvents } from "./client-events.ts";
import type { Link } from "./connection.ts";
import type { Emit } from "./emitter.ts";
import { isFinalRefusal, Outbox, type OutboxEntry, type OutboxStorage } from "./outbox.ts";
import type { ChatSocket } from "./request.ts";
import type { RoomSync } from "./room-sync.ts";
import type { RoomChange, RoomView } from "./room-view.ts";

function newClientId(): string {
  return globalThis.crypto.randomUUID().replaceAll("-", "");
}

/** How long a send that the server could not take now waits before it goes again. */
function retryDelay(code: string): number {
  // A full Redis takes an operator, or trimmed history, to make room.
  if (code === "storage_full") return 2000;
  if (code === "rate_limited") return 1000;
  return 500;
}

/**
 * Delivery of what the user typed: every message goes into the outbox first
 * (kept across a page reload), goes out while connected, again with the same
 * `clientId` after a reconnect or an unanswered send (the server stores it
 * once), and leaves the outbox with its acknowledgement, or stays in it as
 * failed when the server refused it for good. It also says what of the
 * outbox a room should show (`unsent`): pending and failed entries, never
 * one whose message the room shows already.
 */
export class Sender {
  readonly outbox: Outbox;
  /** Sends on their way on the current socket: one at a time per clientId. */
  private readonly inFlight = new Set<string>();

  constructor(
    storage: OutboxStorage,
    private readonly link: Link,
    private readonly rooms: RoomSync,
    private readonly emit: Emit<ClientEvents>,
  ) {
    this.outbox = new Outbox(storage);
  }

  /** Queues a message; it is sent now if connected, else after reconnecting. */
  send(room: string, text: string): OutboxEntry {
    const entry: OutboxEntry = {
      clientId: newClientId(),
      room,
      text,
      createdAt: Date.now(),
      status: "sending",
    };
    this.outbox.add(entry);
    this.changed(room);
    if (this.link.connected) this.transmit(entry);
    return entry;
  }

  /** Removes a failed message from the outbox. */
  discard(clientId: string): void {
    const entry = this.outbox.get(clientId);
    this.outbox.remove(clientId);
    if (entry !== undefined) this.changed(entry.room);
    else this.emit("outbox", this.outbox.all());
  }

  /**
   * What to show of the outbox below a room's messages, oldest first: the
   * entries still sending and those refused. An entry whose message the room
   * shows already (it came live, or with a catch-up, before its
   * acknowledgement) is delivered and left out, so that it shows once.
   */
  unsent(room: string): OutboxEntry[] {
    const entries = this.outbox.all().filter((entry) => entry.room === room);
    if (entries.length === 0) return entries;
    const shown = new Set(this.rooms.rooms.get(room)?.messages.map((message) => message.clientId));
    return entries.filter((entry) => !shown.has(entry.clientId));
  }

  /**
   * A room's view changed: when that showed one of its unsent entries (or
   * replaced the view, which may show or drop any), what is unsent changed too.
   */
  roomChanged(view: RoomView, change: RoomChange): void {
    const waiting = new Set(
      this.outbox
        .all()
        .filter((entry) => entry.room === view.name)
        .map((entry) => entry.clientId),
    );
    if (waiting.size === 0) return;
    if (change.reset || change.added.some((message) => waiting.has(message.clientId))) {
      this.emit("unsent", view.name, this.unsent(view.name));
    }
  }

  /** The outbox changed in `room`. */
  private changed(room: string): void {
    this.emit("outbox", this.outbox.all());
    this.emit("unsent", room, this.unsent(room));
  }

  /** Sends everything still waiting, oldest first: once connected, with every room loaded. */
  flush(): void {
    for (const entry of this.outbox.sending()) this.transmit(entry);
  }

  private transmit(entry: OutboxEntry): void {
    const socket = this.link.socket;
    if (socket === undefined || this.inFlight.has(entry.clientId)) return;
    this.inFlight.add(entry.clientId);
    // The position when first transmitted: a stored copy can only have a later offset.
    const view = this.rooms.rooms.get(entry.room);
    if (entry.since === undefined && view?.loaded === true) {
      this.outbox.setSince(entry.clientId, view.position);
    }
    const since = this.outbox.get(entry.clientId)?.since ?? entry.since;
    this.link
      .request("message:send", {
        room: entry.room,
        text: entry.text,
        clientId: entry.clientId,
        ...(since === undefined ? {} : { since }),
      })
      .then(
        (result) => {
          this.inFlight.delete(entry.clientId);
          this.settle(entry, result, socket);
        },
        () => {
          this.inFlight.delete(entry.clientId);
          // No answer: send again with the same clientId (the server stores it once).
          if (this.current(socket)) this.transmit(entry);
        },
      );
  }

  private settle(
    entry: OutboxEntry,
    result: Result<{ message: Message }>,
    socket: ChatSocket,
  ): void {
    if (result.ok) {
      this.outbox.remove(entry.clientId);
      this.changed(entry.room);
      this.rooms.feed(result.message.room, [result.message]);
      return;
    }
    if (isFinalRefusal(result.error)) {
      this.outbox.fail(entry.clientId, result.error);
      this.changed(entry.room);
      return;
    }
    // unavailable, rate_limited, storage_full, internal: keep it and try again a little later.
    setTimeout(() => {
      if (this.current(socket)) this.transmit(entry);
    }, retryDelay(result.error.code));
  }

  /** True while `socket` is the connection's, and connected: a retry on it makes sense. */
  private current(socket: ChatSocket): boolean {
    return socket === this.link.socket && this.link.connected;
  }
}
