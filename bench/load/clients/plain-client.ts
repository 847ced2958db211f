import { io, type Socket } from "socket.io-client";
import { CookieJar, HttpApi } from "../../../src/client/core/index.ts";
import type { ClientSpec } from "../ipc.ts";
import {
  type BenchClient,
  type ClientHooks,
  firstTime,
  newClientId,
  socketIoBackoff,
} from "./bench-client.ts";

interface Ack {
  ok: boolean;
}

/**
 * A user of the plain reference, written as a Socket.IO app is: socket.io-client
 * with its default transports, `room:join` on every connect, `message:send`
 * with an ack, and `message` events shown as they come. Like the classic
 * Cloud Foundry recipe it refreshes its session cookie (and so the router's
 * affinity) with `GET /api/session` before every (re)connection, which a
 * browser gets for free from its cookie store; the delays between attempts
 * are Socket.IO's defaults. Nothing sent while disconnected survives.
 */
export class PlainBenchClient implements BenchClient {
  private readonly http: HttpApi;
  private readonly jar = new CookieJar();
  private readonly first = firstTime();
  private socket: Socket | undefined;
  private attempt = 0;
  private closed = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  connected = false;
  instance: string | undefined;

  constructor(
    readonly spec: ClientSpec,
    private readonly local: number,
    private readonly hooks: ClientHooks,
  ) {
    this.jar.set(spec.cookie.name, spec.cookie.value);
    this.http = new HttpApi(spec.url, this.jar);
  }

  start(): Promise<void> {
    void this.connect();
    return this.first.promise;
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    this.hooks.attempt(this.local);
    try {
      const session = await this.http.session();
      if (session === undefined) throw new Error("logged out");
      this.instance = session.instance;
    } catch {
      this.retry();
      return;
    }
    if (this.closed) return;
    const cookie = this.jar.header();
    const socket = io(this.spec.url, {
      reconnection: false,
      forceNew: true,
      ...(cookie === undefined ? {} : { extraHeaders: { cookie } }),
    });
    this.socket = socket;
    socket.on("connect", () => {
      Promise.all(
        this.spec.rooms.map((room) => socket.timeout(10_000).emitWithAck("room:join", { room })),
      ).then(
        () => {
          if (socket !== this.socket) return;
          this.attempt = 0;
          this.connected = true;
          this.hooks.status(this.local, true);
          this.first.resolve();
        },
        () => this.lost(socket),
      );
    });
    socket.on("message", (message: { text: string; ts: number }) => {
      this.hooks.delivered(this.local, message.text, false, message.ts);
    });
    socket.on("connect_error", () => this.lost(socket));
    socket.on("disconnect", () => this.lost(socket));
  }

  private lost(socket: Socket): void {
    if (socket !== this.socket) return;
    this.socket = undefined;
    socket.removeAllListeners();
    socket.disconnect();
    if (this.connected) {
      this.connected = false;
      this.hooks.status(this.local, false);
    }
    this.retry();
  }

  private retry(): void {
    if (this.closed || this.timer !== undefined) return;
    const delay = socketIoBackoff(this.attempt);
    this.attempt += 1;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.connect();
    }, delay);
  }

  send(room: string, text: string): boolean {
    const socket = this.socket;
    if (!this.connected || socket === undefined) return false;
    socket.emit("message:send", { room, text, clientId: newClientId() }, (ack: Ack) => {
      if (!ack.ok) this.hooks.sendError(this.local);
    });
    return true;
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    const socket = this.socket;
    this.socket = undefined;
    this.connected = false;
    socket?.removeAllListeners();
    socket?.disconnect();
  }
}
