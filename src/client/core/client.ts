import {
  type Ack,
  type ClientLimits,
  DEFAULT_ROOM,
  type ErrorBody,
  MEMBERS_PAGE,
  type Message,
  type PresenceListResult,
  type ReadyEvent,
} from "../../protocol/index.ts";
import { type BackoffOptions, DEFAULT_BACKOFF } from "./backoff.ts";
import type { ClientEvents } from "./client-events.ts";
import { Connection, type ConnectionStatus } from "./connection.ts";
import { Emitter } from "./emitter.ts";
import type { HttpApi } from "./http-api.ts";
import { MemoryStorage, type Outbox, type OutboxEntry, type OutboxStorage } from "./outbox.ts";
import type { ChatSocket } from "./request.ts";
import { RoomSync } from "./room-sync.ts";
import type { RoomView } from "./room-view.ts";
import { Sender } from "./sender.ts";

/*
 * The client's parts, each with one job; this facade wires them and is all
 * that the browser app, the tests and the load generator use.
 *
 *   connection.ts  the socket's lifecycle: a socket per try, backoff with full
 *                  jitter, fallback addresses, handshake refusals (only
 *                  `unauthorized` asks GET /api/session), `bye`, the status
 *   room-sync.ts   the rooms: joins (in the handshake or with room:join) from
 *                  each room's {epoch, offset}, catch-up after a gap or a
 *                  reconnect, live messages and presence, history, member pages
 *   sender.ts      the outbox: sends, resends with the same clientId, retries
 *                  after retryable codes, final refusals; what of it a room
 *                  shows (pending, failed; a delivered one is the room's)
 *   request.ts     the typed request/ack wrapper; ack types come from protocol/
 *   room-view.ts   one room as shown: each message once, in offset order
 *   outbox.ts      the outbox's entries and their storage
 */

export type { ClientEvents } from "./client-events.ts";
export type { ConnectionStatus } from "./connection.ts";
export { RoomRefusedError } from "./room-sync.ts";

export interface ClientOptions {
  /** Base URL of the router or instance; "" in a browser page for its own origin. */
  url: string;
  http: HttpApi;
  transports?: ("polling" | "websocket")[];
  storage?: OutboxStorage;
  backoff?: BackoffOptions;
  /** How long to wait for an ack before sending again (same clientId). @default 5000 */
  ackTimeoutMs?: number;
  /** Messages kept per room view. @default 500 */
  keepMessages?: number;
  /** Rooms joined on every connect. @default ["lobby"] */
  rooms?: string[];
  /**
   * Node: other addresses of the same service (instances reached without a
   * load balancer). After a connection failed or was lost, the next try goes
   * to one of them other than the one that failed, picked at random. @default []
   */
  fallbackUrls?: string[];
  /**
   * Node only: the `http.Agent` for long-polling requests and the WebSocket
   * handshake. Give a keep-alive one to reuse connections as a browser does;
   * without it every poll opens a new connection.
   */
  agent?: object;
}

/**
 * The Switchboard client: the same code in the browser app, the tests and the
 * load generator. It owns the reconnection (backoff with jitter, straight to
 * the handshake, which authenticates with the session cookie and lands on a
 * live instance; rejoin with each room's position),
 * gap-free ordered delivery per room, and the outbox of unacknowledged sends.
 */
export class SwitchboardClient extends Emitter<ClientEvents> {
  readonly rooms: Map<string, RoomView>;
  readonly outbox: Outbox;
  user: string | undefined;
  /** The server's limits, known once connected. */
  limits: ClientLimits | undefined;
  private readonly connection: Connection;
  private readonly sync: RoomSync;
  private readonly sender: Sender;

  constructor(private readonly options: ClientOptions) {
    super();
    const emit = this.emit.bind(this);
    this.connection = new Connection(
      {
        url: options.url,
        http: options.http,
        transports: options.transports ?? ["polling", "websocket"],
        backoff: options.backoff ?? DEFAULT_BACKOFF,
        ackTimeoutMs: options.ackTimeoutMs ?? 5000,
        fallbackUrls: options.fallbackUrls ?? [],
        agent: options.agent,
      },
      {
        handshakeRooms: () => this.sync.handshakeRooms(),
        opened: (socket) => this.opened(socket),
        ready: (ready, asked) => this.ready(ready, asked),
        waiting: () => this.outbox.sending().length,
        status: (status) => this.statusChanged(status),
      },
    );
    this.sync = new RoomSync(this.connection, options.keepMessages ?? 500, emit, (view, change) => {
      this.emit("room", view, change);
      this.sender.roomChanged(view, change);
    });
    this.sender = new Sender(
      options.storage ?? new MemoryStorage(),
      this.connection,
      this.sync,
      emit,
    );
    this.rooms = this.sync.rooms;
    this.outbox = this.sender.outbox;
    for (const room of options.rooms ?? [DEFAULT_ROOM]) this.sync.view(room);
  }

  get status(): ConnectionStatus {
    return this.connection.status;
  }

  get http(): HttpApi {
    return this.options.http;
  }

  /** Connects, and keeps reconnecting until `close()` or the session ends. */
  start(): void {
    this.connection.start();
  }

  /** Starts, and resolves once connected with every room loaded; rejects when logged out. */
  open(): Promise<void> {
    return new Promise((resolve, reject) => {
      const off = this.on("status", (status) => {
        if (status.state === "connected") {
          off();
          resolve();
        } else if (status.state === "logged-out") {
          off();
          reject(new Error("the session is gone (logged out)"));
        }
      });
      this.start();
    });
  }

  close(): void {
    this.connection.close();
  }

  /** Ends the session on the server; every tab of this browser is logged out. */
  async logout(): Promise<void> {
    this.close();
    await this.http.logout();
    this.connection.loggedOut();
  }

  /** Joins a room; rejects with the server's reason when it refuses (the room is then dropped). */
  join(room: string): Promise<RoomView> {
    return this.sync.join(room);
  }

  leave(room: string): Promise<void> {
    return this.sync.leave(room);
  }

  /** Queues a message; it is sent now if connected, else after reconnecting. */
  send(room: string, text: string): OutboxEntry {
    return this.sender.send(room, text);
  }

  /** Removes a failed message from the outbox. */
  discard(clientId: string): void {
    this.sender.discard(clientId);
  }

  /**
   * What to show below a room's messages: its outbox entries still sending
   * or refused (`status` says which), oldest first, without those whose
   * message the room shows already. The `unsent` event says when it changed.
   */
  unsent(room: string): OutboxEntry[] {
    return this.sender.unsent(room);
  }

  history(room: string, limit = 50): Promise<Message[]> {
    return this.sync.history(room, limit);
  }

  /**
   * Loads the next page of a room's members (in name order, after the last
   * one loaded) into its view's `members`; resolves with what the server
   * said, or undefined when every member is loaded already.
   */
  moreMembers(room: string, limit = MEMBERS_PAGE): Promise<PresenceListResult | undefined> {
    return this.sync.moreMembers(room, limit);
  }

  typing(room: string): void {
    this.connection.socket?.emit("typing", { room });
  }

  private opened(socket: ChatSocket): void {
    this.sync.attach(socket);
    socket.on("typing", (event) => this.emit("typing", event));
  }

  private ready(ready: ReadyEvent, asked: string[]): Promise<void> {
    this.user = ready.user.name;
    this.limits = ready.limits;
    return this.sync.rejoin(ready, asked);
  }

  private statusChanged(status: ConnectionStatus): void {
    if (status.state === "logged-out") this.user = undefined;
    this.emit("status", status);
    if (status.state === "connected") this.sender.flush();
    else if (status.state === "logged-out") this.emit("logged-out");
  }
}

export type { Ack, ErrorBody };
