import type { ErrorBody, PresenceEvent, TypingEvent } from "../../protocol/index.ts";
import type { ConnectionStatus } from "./connection.ts";
import type { OutboxEntry } from "./outbox.ts";
import type { RoomChange, RoomView } from "./room-view.ts";

/** What a `SwitchboardClient` tells whoever shows it. */
export interface ClientEvents {
  status: [ConnectionStatus];
  /** A room's view changed: messages added in order, or the whole view replaced. */
  room: [RoomView, RoomChange];
  /** One user joined or left (a `presence:batch` gives one per user; the view is updated first). */
  presence: [PresenceEvent];
  /** A presence frame (a batch, or one protocol-1 event) changed a room's members. */
  members: [RoomView];
  typing: [TypingEvent];
  /** Every entry of the outbox, after each change to it. */
  outbox: [OutboxEntry[]];
  /**
   * What to show below a room's messages changed: `client.unsent(room)`, its
   * entries still sending or refused, without any the room shows already.
   */
  unsent: [string, OutboxEntry[]];
  /** The session ended (logout, expiry): show the login page. */
  "logged-out": [];
  /** The server refused to (re)join a room; it was dropped from `rooms`. */
  "room-refused": [string, ErrorBody];
}
