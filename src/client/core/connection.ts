import { io } from "socket.io-client";
import {
  type ByeEvent,
  type HandshakeAuth,
  HandshakeRefusal,
  type JoinRequest,
  PROTOCOL_VERSION,
  type ReadyEvent,
} from "../../protocol/index.ts";
import { type BackoffOptions, backoffDelay } from "./backoff.ts";
import type { HttpApi } from "./http-api.ts";
import {
  type AckResult,
  type ChatSocket,
  type RequestEvent,
  type RequestOf,
  request,
} from "./request.ts";

export type ConnectionStatus =
  | { state: "idle" }
  | { state: "connecting"; attempt: number }
  | { state: "connected"; instance: string }
  | { state: "reconnecting"; attempt: number; outbox: number }
  | { state: "logged-out" }
  | { state: "closed" };

/** What the room sync and the sender need of the connection. */
export interface Link {
  /** The socket of the current try, connected or not yet. */
  readonly socket: ChatSocket | undefined;
  /** True once `ready` was handled and every room is loaded. */
  readonly connected: boolean;
  /** A request on the current socket; rejects when there is none or no answer came. */
  request<E extends RequestEvent>(event: E, payload: RequestOf<E>): Promise<AckResult<E>>;
  /** The connection cannot go on (a request went unanswered): drop it and try again. */
  reconnect(): void;
}

export interface ConnectionOptions {
  url: string;
  fallbackUrls: string[];
  transports: ("polling" | "websocket")[];
  backoff: BackoffOptions;
  ackTimeoutMs: number;
  http: HttpApi;
  agent?: object | undefined;
}

/** What the rest of the client does at the connection's turning points. */
export interface ConnectionHooks {
  /** The rooms to join in the handshake, asked when it is sent (so with the positions of then). */
  handshakeRooms(): JoinRequest[];
  /** A socket was opened: listen to its chat events (they end with the socket). */
  opened(socket: ChatSocket): void;
  /**
   * `ready` came, with the replies to `asked`: load every room. Resolves when
   * done; a rejection makes the connection try again.
   */
  ready(ready: ReadyEvent, asked: string[]): Promise<void>;
  /** Unacknowledged sends, for the status while reconnecting. */
  waiting(): number;
  status(status: ConnectionStatus): void;
}

/**
 * The socket's lifecycle: one Socket.IO socket per try, with Socket.IO's own
 * reconnection off, so that every try goes through the backoff with full
 * jitter, may pick another address, and names the rooms to rejoin in its
 * handshake. Only a handshake refused as `unauthorized` asks the server over
 * HTTP whether the session ended.
 */
export class Connection implements Link {
  status: ConnectionStatus = { state: "idle" };
  socket: ChatSocket | undefined;
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** A WebSocket connection worked before: the next connection starts with one. */
  private websocketWorked = false;
  /** Where the next connection goes (`url`, or one of `fallbackUrls` after a failure). */
  private target: string;

  constructor(
    private readonly options: ConnectionOptions,
    private readonly hooks: ConnectionHooks,
  ) {
    this.target = options.url;
  }

  get connected(): boolean {
    return this.status.state === "connected";
  }

  start(): void {
    if (this.status.state !== "idle" && this.status.state !== "closed") return;
    this.attempt = 0;
    this.connect();
  }

  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.dropSocket();
    this.setStatus({ state: "closed" });
  }

  /** The session ended: stop for good (until `start()` after a new login). */
  loggedOut(): void {
    clearTimeout(this.timer);
    this.dropSocket();
    this.setStatus({ state: "logged-out" });
  }

  request<E extends RequestEvent>(event: E, payload: RequestOf<E>): Promise<AckResult<E>> {
    const socket = this.socket;
    if (socket === undefined) return Promise.reject(new Error("not connected"));
    return request(socket, this.options.ackTimeoutMs, event, payload);
  }

  reconnect(immediate = false): void {
    if (this.timer !== undefined || this.status.state === "closed") return;
    this.dropSocket();
    this.attempt += 1;
    const { url, fallbackUrls } = this.options;
    const others = [url, ...fallbackUrls].filter((other) => other !== this.target);
    if (fallbackUrls.length > 0 && others.length > 0) {
      this.target = others[Math.floor(Math.random() * others.length)] ?? this.target;
    }
    this.setStatus({
      state: "reconnecting",
      attempt: this.attempt,
      outbox: this.hooks.waiting(),
    });
    const delay = immediate
      ? backoffDelay(0, this.options.backoff)
      : backoffDelay(this.attempt - 1, this.options.backoff);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.connect();
    }, delay);
  }

  private setStatus(status: ConnectionStatus): void {
    this.status = status;
    this.hooks.status(status);
  }

  private dropSocket(): void {
    const socket = this.socket;
    this.socket = undefined;
    if (socket === undefined) return;
    socket.removeAllListeners();
    socket.io.removeAllListeners();
    socket.disconnect();
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
    const ended = await this.options.http.session().then(
      (session) => session === undefined,
      () => false,
    );
    if (this.status.state === "closed") return;
    if (ended) this.loggedOut();
    else this.reconnect();
  }

  private openSocket(): void {
    // The rooms to rejoin go in the handshake, and their replies come with
    // `ready`: no round trip to join after connecting.
    let asked: string[] = [];
    const socket: ChatSocket = io(this.target, {
      auth: (give: (auth: HandshakeAuth) => void) => {
        const rooms = this.hooks.handshakeRooms();
        asked = rooms.map((request) => request.room);
        give({ rooms, protocol: PROTOCOL_VERSION });
      },
      reconnection: false,
      forceNew: true,
      transports: this.transports(),
      tryAllTransports: true,
      // Node: the jar stands in for the browser's cookie store.
      ...this.options.http.jar?.engineOptions(),
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
      this.reconnect();
    });
    this.socket = socket;
    this.hooks.opened(socket);
    socket.on("ready", (ready) => {
      if (engine.transport.name === "websocket") this.websocketWorked = true;
      void this.onReady(socket, ready, asked);
    });
    socket.on("bye", (event: ByeEvent) => {
      if (event.reason === "draining") this.reconnect(true);
      else this.loggedOut();
    });
    socket.on("connect_error", (error) => {
      if (socket !== this.socket) return;
      if (error.message === HandshakeRefusal.Unauthorized) {
        this.dropSocket();
        void this.checkSession();
      } else {
        this.reconnect();
      }
    });
    socket.on("disconnect", (reason) => {
      if (socket !== this.socket || reason === "io client disconnect") return;
      this.reconnect();
    });
  }

  /**
   * After a WebSocket worked once, start with it (no long-polling handshake
   * and upgrade first: fewer round trips when a crowd reconnects at once);
   * tryAllTransports falls back to long-polling when it fails. This is what
   * engine.io-client's rememberUpgrade does, but per client and not per process.
   */
  private transports(): ("polling" | "websocket")[] {
    const { transports } = this.options;
    return this.websocketWorked && transports.includes("websocket")
      ? ["websocket", ...transports.filter((t) => t !== "websocket")]
      : transports;
  }

  private async onReady(socket: ChatSocket, ready: ReadyEvent, asked: string[]): Promise<void> {
    try {
      await this.hooks.ready(ready, asked);
    } catch {
      if (socket === this.socket) this.reconnect();
      return;
    }
    if (socket !== this.socket) return;
    this.attempt = 0;
    this.setStatus({ state: "connected", instance: ready.instance });
  }
}
