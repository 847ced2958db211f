import {
  type ErrorBody,
  type JoinRequest,
  type JoinResult,
  MEMBERS_PAGE,
  type Message,
  type PresenceListResult,
  type ReadyEvent,
  type Result,
} from "../../protocol/index.ts";
import type { ClientEvents } from "./client-events.ts";
import type { Link } from "./connection.ts";
import type { Emit } from "./emitter.ts";
import { isFinalRefusal } from "./outbox.ts";
import type { ChatSocket } from "./request.ts";
import { type RoomChange, RoomView } from "./room-view.ts";

/** The server refused a room (its code says why). */
export class RoomRefusedError extends Error {
  constructor(
    readonly room: string,
    readonly error: ErrorBody,
  ) {
    super(error.message);
    this.name = "RoomRefusedError";
  }
}

/** A refusal that retrying mends (the server's storage is failing over, a rate limit). */
class RetryLaterError extends Error {
  constructor(readonly error: ErrorBody) {
    super(error.message);
    this.name = "RetryLaterError";
  }
}

/** The first pause before a refused catch-up is tried again, and the longest (ms; with jitter). */
const GAP_RETRY_FIRST_MS = 250;
const GAP_RETRY_MAX_MS = 4000;
/**
 * How long a gap may wait for its messages to come live before the client
 * asks for them. With the replica acknowledgement each instance publishes a
 * message once its replica has it, so messages of one room sent through
 * different instances can arrive a few milliseconds out of offset order;
 * asking at once sent every client of the room to the history for each of
 * them (Redis counted some 16,000 history reads, most of them such
 * catch-ups, for 2,700 messages in the benchmark's replica-ack scenario).
 * Messages behind the gap are held, not shown, meanwhile.
 */
const GAP_GRACE_MS = 250;

/** Runs `then` after `ms`; in Node (tests, the benchmark's clients) the wait keeps nothing running. */
function later(ms: number, then: () => void): void {
  const timer = setTimeout(then, ms);
  (timer as { unref?: () => void }).unref?.();
}

/**
 * The rooms a client shows, kept gap-free: each joined from its last
 * `{epoch, offset}` (in the handshake, or with `room:join`), caught up page
 * by page, and again whenever a live message shows a gap; live messages and
 * presence applied to their views; older history and member pages on demand.
 */
export class RoomSync {
  readonly rooms = new Map<string, RoomView>();
  /** Rooms with a join on its way: a gap seen meanwhile is that join's to fill. */
  private readonly catchingUp = new Set<string>();
  /** Rooms whose gap waits out `GAP_GRACE_MS` before a catch-up. */
  private readonly gapsWaiting = new Set<string>();

  constructor(
    private readonly link: Link,
    private readonly keepMessages: number,
    private readonly emit: Emit<ClientEvents>,
    /** Every change of a room's view, for whoever shows it. */
    private readonly changed: (view: RoomView, change: RoomChange) => void,
  ) {}

  /** The room's view, made (empty, not loaded) when it is new. */
  view(room: string): RoomView {
    let view = this.rooms.get(room);
    if (view === undefined) {
      view = new RoomView(room, this.keepMessages);
      view.members.loader = () => this.moreMembers(room).then(() => undefined);
      this.rooms.set(room, view);
    }
    return view;
  }

  /** Each room with its position once loaded: what the handshake asks to join. */
  handshakeRooms(): JoinRequest[] {
    return [...this.rooms.values()].map(
      (view): JoinRequest =>
        view.loaded ? { room: view.name, since: view.position } : { room: view.name },
    );
  }

  /** Listens to a new socket's room traffic: messages and presence. */
  attach(socket: ChatSocket): void {
    socket.on("message", (message) => this.feed(message.room, [message]));
    socket.on("messages", (batch) => this.feed(batch.room, batch.messages));
    socket.on("presence", (event) => {
      const view = this.rooms.get(event.room);
      if (view === undefined) return;
      if (event.state === "join") view.members.apply([event.user], []);
      else view.members.apply([], [event.user]);
      this.emit("members", view);
      this.emit("presence", event);
    });
    // Protocol 2: a room's joins and leaves of one window at one instance, with the room's count.
    socket.on("presence:batch", (batch) => {
      const view = this.rooms.get(batch.room);
      if (view === undefined) return;
      const joined = batch.joined ?? [];
      const left = batch.left ?? [];
      view.members.apply(joined, left, batch.count);
      this.emit("members", view);
      for (const user of left) this.emit("presence", { room: batch.room, user, state: "leave" });
      for (const user of joined) this.emit("presence", { room: batch.room, user, state: "join" });
    });
  }

  /**
   * Loads every room after `ready`: with the replies it carries for the rooms
   * the handshake asked for, and with `room:join` for the others (a server
   * that did not join them, or refused the list as a whole). Rejects when a
   * room could not be loaded; the connection then tries again.
   */
  async rejoin(ready: ReadyEvent, asked: string[]): Promise<void> {
    const replies = new Map<string, Result<JoinResult>>();
    if (ready.rejoin?.ok === true) {
      ready.rejoin.rooms.forEach((reply, i) => {
        const room = asked[i];
        if (room === undefined) return;
        // Left while the handshake was on its way: leave it on the server too.
        if (!this.rooms.has(room) && reply.ok) {
          this.link.request("room:leave", { room }).catch(() => {});
        } else replies.set(room, reply);
      });
    }
    await Promise.all([...this.rooms.keys()].map((room) => this.sync(room, replies.get(room))));
  }

  /** Joins a room; rejects with the server's reason when it refuses (the room is then dropped). */
  async join(room: string): Promise<RoomView> {
    const view = this.view(room);
    if (this.link.connected) {
      const refused = await this.sync(room);
      if (refused !== undefined) throw new RoomRefusedError(room, refused);
    }
    return view;
  }

  async leave(room: string): Promise<void> {
    this.rooms.delete(room);
    if (this.link.connected) await this.link.request("room:leave", { room });
  }

  /** Fetches older messages into the view; resolves with those it added. */
  async history(room: string, limit: number): Promise<Message[]> {
    const view = this.view(room);
    const before = view.messages[0]?.offset ?? view.offset + 1;
    const result = await this.link.request("history", { room, before, limit });
    if (!result.ok) throw new Error(result.error.message);
    return view.prepend(result.messages);
  }

  /**
   * Loads the next page of a room's members (in name order, after the last
   * one loaded) into its view's `members`; resolves with what the server
   * said, or undefined when every member is loaded already.
   */
  async moreMembers(room: string, limit = MEMBERS_PAGE): Promise<PresenceListResult | undefined> {
    const members = this.rooms.get(room)?.members;
    if (members === undefined || members.complete) return undefined;
    const after = members.cursor;
    const result = await this.link.request("presence:list", {
      room,
      limit,
      ...(after === undefined ? {} : { after }),
    });
    if (!result.ok) throw new RoomRefusedError(room, result.error);
    const { ok: _ok, ...page } = result;
    // A join meanwhile started the list again: this page belongs to the old one.
    if (this.rooms.get(room)?.members === members && members.cursor === after) {
      members.addPage(page);
    }
    return page;
  }

  /** Applies messages that arrived live or with an acknowledgement; a gap starts a catch-up. */
  feed(room: string, messages: Message[]): void {
    const view = this.rooms.get(room);
    if (view === undefined) return;
    const change = view.feed(messages);
    if (change.added.length > 0) this.changed(view, change);
    if (change.gap) this.awaitGap(room);
  }

  /** Fills the room's gap unless its messages arrive live within `GAP_GRACE_MS`. */
  private awaitGap(room: string): void {
    if (this.gapsWaiting.has(room) || this.catchingUp.has(room) || !this.link.connected) return;
    this.gapsWaiting.add(room);
    later(GAP_GRACE_MS, () => {
      this.gapsWaiting.delete(room);
      if (this.gapStillOpen(room)) this.fillGap(room, 0);
    });
  }

  /** True while the room shows a gap that no join fills, on a live connection. */
  private gapStillOpen(room: string): boolean {
    return (
      this.rooms.get(room)?.hasGap === true && !this.catchingUp.has(room) && this.link.connected
    );
  }

  /**
   * Catches a room up over a gap. A refusal that says "try again" (Redis
   * failing over: `unavailable`) is tried again on the same connection after
   * a pause; reconnecting instead would send every client of the room
   * through a new handshake, each reading its session from the Redis that is
   * failing over. A request that gets no answer at all reconnects.
   */
  private fillGap(room: string, attempt: number): void {
    this.sync(room).catch((error: unknown) => {
      if (!(error instanceof RetryLaterError) || !this.link.connected) {
        this.link.reconnect();
        return;
      }
      const pause = Math.min(GAP_RETRY_MAX_MS, GAP_RETRY_FIRST_MS * 2 ** attempt);
      later(pause * (0.5 + Math.random()), () => {
        if (this.gapStillOpen(room)) this.fillGap(room, attempt + 1);
      });
    });
  }

  /**
   * Joins a room from its last position and applies the reply, page after
   * page; `first` is a reply that came already (in `ready`). A refusal that
   * retrying cannot mend (too many rooms, a bad name) drops the room and is
   * returned; anything else throws, and the caller reconnects.
   */
  private async sync(room: string, first?: Result<JoinResult>): Promise<ErrorBody | undefined> {
    const view = this.view(room);
    this.catchingUp.add(room);
    let given = first;
    try {
      for (;;) {
        const since = view.loaded ? view.position : undefined;
        const result: Result<JoinResult> =
          given ??
          (await this.link.request("room:join", {
            room,
            ...(since === undefined ? {} : { since }),
          }));
        given = undefined;
        if (!result.ok) {
          if (!isFinalRefusal(result.error)) throw new RetryLaterError(result.error);
          this.rooms.delete(room);
          this.emit("room-refused", room, result.error);
          return result.error;
        }
        this.changed(view, view.applyJoin(result));
        // Go on while the replay was cut at a page, or live messages wait behind a gap
        // that the reply did not fill (they arrived after the server read the history).
        if (!result.more && !view.hasGap) return undefined;
      }
    } finally {
      this.catchingUp.delete(room);
    }
  }
}
