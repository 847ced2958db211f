import { io, type Socket } from "socket.io-client";
import {
  type Ack,
  type ByeEvent,
  type ClientLimits,
  type ClientToServerEvents,
  DEFAULT_ROOM,
  type ErrorBody,
  type HandshakeAuth,
  HandshakeRefusal,
  type JoinRequest,
  type JoinResult,
  MEMBERS_PAGE,
  type Message,
  PROTOCOL_VERSION,
  type PresenceEvent,
  type PresenceListResult,
  type ReadyEvent,
  type Result,
  type ServerToClientEvents,
  type TypingEvent,
} from "../../protocol/index.ts";
import { type BackoffOptions, backoffDelay, DEFAULT_BACKOFF } from "./backoff.ts";
import { Emitter } from "./emitter.ts";
import type { HttpApi } from "./http-api.ts";
import {
  isFinalRefusal,
  MemoryStorage,
  Outbox,
  type OutboxEntry,
  type OutboxStorage,
} from "./outbox.ts";
import { type RoomChange, RoomView } from "./room-view.ts";

export type ConnectionStatus =
  | { state: "idle" }
  | { state: "connecting"; attempt: number }
  | { state: "connected"; instance: string }
  | { state: "reconnecting"; attempt: number; outbox: number }
  | { state: "logged-out" }
  | { state: "closed" };

export interface ClientEvents {
  status: [ConnectionStatus];
  /** A room's view changed: messages added in order, or the whole view replaced. */
  room: [RoomView, RoomChange];
  /** One user joined or left (a `presence:batch` gives one per user; the view is updated first). */
  presence: [PresenceEvent];
  /** A presence frame (a batch, or one protocol-1 event) changed a room's members. */
  members: [RoomView];
  typing: [TypingEvent];
  outbox: [OutboxEntry[]];
  /** The session ended (logout, expiry): show the login page. */
  "logged-out": [];
  /** The server refused to (re)join a room; it was dropped from `rooms`. */
  "room-refused": [string, ErrorBody];
}

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

type ChatSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

function newClientId(): string {
  return globalThis.crypto.randomUUID().replaceAll("-", "");
}

/**
 * The Switchboard client: the same code in the browser app, the tests and the
 * load generator. It owns the reconnection (backoff with jitter, straight to
 * the handshake, which authenticates with the session cookie and lands on a
 * live instance; rejoin with each room's position),
 * gap-free ordered delivery per room, and the outbox of unacknowledged sends.
 */
export class SwitchboardClient extends Emitter<ClientEvents> {
  readonly rooms = new Map<string, RoomView>();
  readonly outbox: Outbox;
  status: ConnectionStatus = { state: "idle" };
  user: string | undefined;
  /** The server's limits, known once connected. */
  limits: ClientLimits | undefined;
  private socket: ChatSocket | undefined;
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** A WebSocket connection worked before: the next connection starts with one. */
  private websocketWorked = false;
  private readonly catchingUp = new Set<string>();
  private readonly inFlight = new Set<string>();
  /** Where the next connection goes (`url`, or one of `fallbackUrls` after a failure). */
  private target: string;
  private readonly options: Required<Omit<ClientOptions, "storage" | "agent">> &
    Pick<ClientOptions, "agent">;

  constructor(options: ClientOptions) {
    super();
    this.options = {
      transports: ["polling", "websocket"],
      backoff: DEFAULT_BACKOFF,
      ackTimeoutMs: 5000,
      keepMessages: 500,
      rooms: [DEFAULT_ROOM],
      fallbackUrls: [],
      ...options,
    };
    this.target = this.options.url;
    this.outbox = new Outbox(options.storage ?? new MemoryStorage());
    for (const room of this.options.rooms) this.view(room);
  }

  get http(): HttpApi {
    return this.options.http;
  }

  /** Connects, and keeps reconnecting until `close()` or the session ends. */
  start(): void {
    if (this.status.state !== "idle" && this.status.state !== "closed") return;
    this.attempt = 0;
    this.connect();
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
    clearTimeout(this.timer);
    this.timer = undefined;
    this.dropSocket();
    this.setStatus({ state: "closed" });
  }

  /** Ends the session on the server; every tab of this browser is logged out. */
  async logout(): Promise<void> {
    this.close();
    await this.http.logout();
    this.loggedOut();
  }

  /** Joins a room; rejects with the server's reason when it refuses (the room is then dropped). */
  async join(room: string): Promise<RoomView> {
    const view = this.view(room);
    if (this.status.state === "connected") {
      const refused = await this.syncRoom(room);
      if (refused !== undefined) throw new RoomRefusedError(room, refused);
    }
    return view;
  }

  async leave(room: string): Promise<void> {
    this.rooms.delete(room);
    if (this.status.state === "connected") await this.call("room:leave", { room });
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
    this.emit("outbox", this.outbox.all());
    if (this.status.state === "connected") this.transmit(entry);
    return entry;
  }

  /** Removes a failed message from the outbox. */
  discard(clientId: string): void {
    this.outbox.remove(clientId);
    this.emit("outbox", this.outbox.all());
  }

  async history(room: string, limit = 50): Promise<Message[]> {
    const view = this.view(room);
    const before = view.messages[0]?.offset ?? view.offset + 1;
    const result = await this.call("history", { room, before, limit });
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
    const result = await this.call("presence:list", {
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

  typing(room: string): void {
    this.socket?.emit("typing", { room });
  }

  private view(room: string): RoomView {
    let view = this.rooms.get(room);
    if (view === undefined) {
      view = new RoomView(room, this.options.keepMessages);
      view.members.loader = () => this.moreMembers(room).then(() => undefined);
      this.rooms.set(room, view);
    }
    return view;
  }

  private setStatus(status: ConnectionStatus): void {
    this.status = status;
    this.emit("status", status);
  }

  private loggedOut(): void {
    clearTimeout(this.timer);
    this.dropSocket();
    this.user = undefined;
    this.setStatus({ state: "logged-out" });
    this.emit("logged-out");
  }

  private dropSocket(): void {
    const socket = this.socket;
    this.socket = undefined;
    if (socket === undefined) return;
    socket.removeAllListeners();
    socket.io.removeAllListeners();
    socket.disconnect();
  }

  private scheduleReconnect(immediate = false): void {
    if (this.timer !== undefined || this.status.state === "closed") return;
    this.dropSocket();
    this.attempt += 1;
    const others = [this.options.url, ...this.options.fallbackUrls].filter(
      (url) => url !== this.target,
    );
    if (this.options.fallbackUrls.length > 0 && others.length > 0) {
      this.target = others[Math.floor(Math.random() * others.length)] ?? this.target;
    }
    this.setStatus({
      state: "reconnecting",
      attempt: this.attempt,
      outbox: this.outbox.sending().length,
    });
    const delay = immediate
      ? backoffDelay(0, this.options.backoff)
      : backoffDelay(this.attempt - 1, this.options.backoff);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.connect();
    }, delay);
  }

  private connect(): void {
    if (this.attempt === 0) this.setStatus({ state: "connecting", attempt: 0 });
    this.openSocket();
  }

  /**
   * The handshake was refused as unauthorized: the session may have ended
   * (logout in another tab, expiry), or the instance could not tell. Only
   * then does the client ask over HTTP, and shows the login page if so.
   */
  private async checkSession(): Promise<void> {
    const ended = await this.http.session().then(
      (session) => session === undefined,
      () => false,
    );
    if (this.status.state === "closed") return;
    if (ended) this.loggedOut();
    else this.scheduleReconnect();
  }

  private openSocket(): void {
    // After a WebSocket worked once, start with it (no long-polling handshake
    // and upgrade first: fewer round trips when a crowd reconnects at once);
    // tryAllTransports falls back to long-polling when it fails. This is what
    // engine.io-client's rememberUpgrade does, but per client and not per process.
    const transports =
      this.websocketWorked && this.options.transports.includes("websocket")
        ? ["websocket" as const, ...this.options.transports.filter((t) => t !== "websocket")]
        : this.options.transports;
    // The rooms to rejoin go in the handshake, and their replies come with
    // `ready`: no round trip to join after connecting. Asked when the
    // handshake is sent, so it carries the positions of that moment.
    let asked: string[] = [];
    const socket: ChatSocket = io(this.target, {
      auth: (give: (auth: HandshakeAuth) => void) => {
        const rooms = [...this.rooms.values()].map(
          (view): JoinRequest =>
            view.loaded ? { room: view.name, since: view.position } : { room: view.name },
        );
        asked = rooms.map((request) => request.room);
        give({ rooms, protocol: PROTOCOL_VERSION });
      },
      reconnection: false,
      forceNew: true,
      transports,
      tryAllTransports: true,
      // Node: the jar stands in for the browser's cookie store.
      ...this.http.jar?.engineOptions(),
      // engine.io-client types `agent` as string | boolean; in Node it is handed to http.request.
      ...(this.options.agent === undefined
        ? {}
        : { agent: this.options.agent as unknown as string }),
    });
    const engine = socket.io.engine;
    engine.on("upgrade", () => {
      this.websocketWorked = true;
    });
    // A transport that closes before the Engine.IO handshake is done (an
    // instance that dies while accepting it, a proxy that drops it) is neither
    // a connect_error nor a disconnect: Socket.IO would notice only at its
    // 20 s connection timeout. Try again now instead. ("forced close" is
    // Socket.IO closing it on purpose, as after a refusal, whose connect_error
    // follows and decides.)
    engine.on("close", (reason) => {
      if (reason === "forced close" || socket !== this.socket || socket.connected) return;
      this.scheduleReconnect();
    });
    this.socket = socket;
    socket.on("ready", (ready) => {
      if (engine.transport.name === "websocket") this.websocketWorked = true;
      this.user = ready.user.name;
      this.limits = ready.limits;
      void this.onReady(socket, ready, asked);
    });
    socket.on("message", (message) => this.onMessages(message.room, [message]));
    socket.on("messages", (batch) => this.onMessages(batch.room, batch.messages));
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
    socket.on("typing", (event) => this.emit("typing", event));
    socket.on("bye", (event: ByeEvent) => {
      if (event.reason === "draining") this.scheduleReconnect(true);
      else this.loggedOut();
    });
    socket.on("connect_error", (error) => {
      if (socket !== this.socket) return;
      if (error.message === HandshakeRefusal.Unauthorized) {
        this.dropSocket();
        void this.checkSession();
      } else {
        this.scheduleReconnect();
      }
    });
    socket.on("disconnect", (reason) => {
      if (socket !== this.socket || reason === "io client disconnect") return;
      this.scheduleReconnect();
    });
  }

  private async onReady(socket: ChatSocket, ready: ReadyEvent, asked: string[]): Promise<void> {
    // A server that did not join the rooms in the handshake (or refused the
    // list as a whole) leaves them to `room:join`.
    const replies = new Map<string, Result<JoinResult>>();
    if (ready.rejoin?.ok === true) {
      ready.rejoin.rooms.forEach((reply, i) => {
        const room = asked[i];
        if (room === undefined) return;
        // Left while the handshake was on its way: leave it on the server too.
        if (!this.rooms.has(room) && reply.ok) this.call("room:leave", { room }).catch(() => {});
        else replies.set(room, reply);
      });
    }
    try {
      await Promise.all(
        [...this.rooms.keys()].map((room) => this.syncRoom(room, replies.get(room))),
      );
    } catch {
      if (socket === this.socket) this.scheduleReconnect();
      return;
    }
    if (socket !== this.socket) return;
    this.attempt = 0;
    this.setStatus({ state: "connected", instance: ready.instance });
    for (const entry of this.outbox.sending()) this.transmit(entry);
  }

  /**
   * Joins a room from its last position and applies the reply, page after
   * page; `first` is a reply that came already (in `ready`). A refusal that
   * retrying cannot mend (too many rooms, a bad name) drops the room and is
   * returned; anything else throws, and the caller reconnects.
   */
  private async syncRoom(room: string, first?: Result<JoinResult>): Promise<ErrorBody | undefined> {
    const view = this.view(room);
    this.catchingUp.add(room);
    let given = first;
    try {
      for (;;) {
        const since = view.loaded ? view.position : undefined;
        const result: Result<JoinResult> =
          given ??
          (await this.call("room:join", {
            room,
            ...(since === undefined ? {} : { since }),
          }));
        given = undefined;
        if (!result.ok) {
          if (!isFinalRefusal(result.error)) throw new Error(result.error.message);
          this.rooms.delete(room);
          this.emit("room-refused", room, result.error);
          return result.error;
        }
        this.emit("room", view, view.applyJoin(result));
        // Go on while the replay was cut at a page, or live messages wait behind a gap
        // that the reply did not fill (they arrived after the server read the history).
        if (!result.more && !view.hasGap) return undefined;
      }
    } finally {
      this.catchingUp.delete(room);
    }
  }

  private onMessages(room: string, messages: Message[]): void {
    const view = this.rooms.get(room);
    if (view === undefined) return;
    const change = view.feed(messages);
    if (change.added.length > 0) this.emit("room", view, change);
    if (change.gap && !this.catchingUp.has(room) && this.status.state === "connected") {
      this.syncRoom(room).catch(() => this.scheduleReconnect());
    }
  }

  private transmit(entry: OutboxEntry): void {
    const socket = this.socket;
    if (socket === undefined || this.inFlight.has(entry.clientId)) return;
    this.inFlight.add(entry.clientId);
    // The position when first transmitted: a stored copy can only have a later offset.
    const view = this.rooms.get(entry.room);
    if (entry.since === undefined && view?.loaded === true) {
      this.outbox.setSince(entry.clientId, view.position);
    }
    const since = this.outbox.get(entry.clientId)?.since ?? entry.since;
    socket.timeout(this.options.ackTimeoutMs).emit(
      "message:send",
      {
        room: entry.room,
        text: entry.text,
        clientId: entry.clientId,
        ...(since === undefined ? {} : { since }),
      },
      (timeout: Error | null, result: Result<{ message: Message }>) => {
        this.inFlight.delete(entry.clientId);
        if (timeout !== null) {
          // No answer: send again with the same clientId (the server stores it once).
          if (socket === this.socket && this.status.state === "connected") this.transmit(entry);
          return;
        }
        this.settle(entry, result, socket);
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
      this.emit("outbox", this.outbox.all());
      this.onMessages(result.message.room, [result.message]);
      return;
    }
    if (isFinalRefusal(result.error)) {
      this.outbox.fail(entry.clientId, result.error);
      this.emit("outbox", this.outbox.all());
      return;
    }
    // unavailable, rate_limited, storage_full, internal: keep it and try again a little later
    // (a full Redis takes an operator, or trimmed history, to make room).
    const retryIn =
      result.error.code === "storage_full"
        ? 2000
        : result.error.code === "rate_limited"
          ? 1000
          : 500;
    setTimeout(() => {
      if (socket === this.socket && this.status.state === "connected") this.transmit(entry);
    }, retryIn);
  }

  private call<E extends "room:join" | "room:leave" | "history" | "presence:list">(
    event: E,
    payload: Parameters<ClientToServerEvents[E]>[0],
  ): Promise<AckResult<E>> {
    const socket = this.socket;
    if (socket === undefined) return Promise.reject(new Error("not connected"));
    const emit = socket.timeout(this.options.ackTimeoutMs).emitWithAck as (
      event: E,
      payload: unknown,
    ) => Promise<AckResult<E>>;
    return emit.call(socket.timeout(this.options.ackTimeoutMs), event, payload);
  }
}

/** What the server acknowledges each event with. */
interface AckResults {
  "room:join": Result<JoinResult>;
  "room:leave": Result<{ room: string }>;
  history: Result<{ messages: Message[] }>;
  "presence:list": Result<PresenceListResult>;
}
type AckResult<E extends keyof AckResults> = AckResults[E];

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

export type { Ack, ErrorBody };
