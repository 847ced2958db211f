import WebSocket from "ws";
import { CookieJar, HttpApi } from "../../../src/client/core/index.ts";
import type { ClientSpec } from "../ipc.ts";
import {
  type BenchClient,
  type ClientHooks,
  firstTime,
  newClientId,
  socketIoBackoff,
} from "./bench-client.ts";

interface ServerFrame {
  e: string;
  id?: number;
  d: { ok?: boolean; text?: string; ts?: number };
}

/**
 * A user of the ceiling reference: one `ws` WebSocket with JSON frames. It
 * refreshes its session (and the router's affinity) before each connection
 * and reconnects with the same delays as the plain client.
 */
export class CeilingBenchClient implements BenchClient {
  private readonly http: HttpApi;
  private readonly jar = new CookieJar();
  private readonly first = firstTime();
  private ws: WebSocket | undefined;
  private attempt = 0;
  private closed = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private nextId = 1;
  private joins = new Map<number, () => void>();
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
    const url = `${this.spec.url.replace(/^http/, "ws")}/ws`;
    const ws = new WebSocket(url, {
      headers: { cookie: this.jar.header() ?? "" },
      perMessageDeflate: false,
    });
    this.ws = ws;
    ws.on("open", () => {
      let waiting = this.spec.rooms.length;
      this.joins.clear();
      for (const room of this.spec.rooms) {
        const id = this.nextId++;
        this.joins.set(id, () => {
          waiting -= 1;
          if (waiting > 0 || ws !== this.ws) return;
          this.attempt = 0;
          this.connected = true;
          this.hooks.status(this.local, true);
          this.first.resolve();
        });
        ws.send(JSON.stringify({ e: "room:join", d: { room }, id }));
      }
    });
    ws.on("message", (data) => {
      const frame = JSON.parse(String(data)) as ServerFrame;
      if (frame.e === "message") {
        this.hooks.delivered(this.local, frame.d.text ?? "", false, frame.d.ts ?? Number.NaN);
      } else if (frame.e === "ack" && frame.id !== undefined) {
        const join = this.joins.get(frame.id);
        if (join !== undefined) {
          this.joins.delete(frame.id);
          join();
        } else if (frame.d.ok !== true) {
          this.hooks.sendError(this.local);
        }
      }
    });
    ws.on("error", () => this.lost(ws));
    ws.on("close", () => this.lost(ws));
  }

  private lost(ws: WebSocket): void {
    if (ws !== this.ws) return;
    this.ws = undefined;
    ws.removeAllListeners();
    ws.on("error", () => {});
    ws.terminate();
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
    const ws = this.ws;
    if (!this.connected || ws === undefined) return false;
    const id = this.nextId++;
    ws.send(JSON.stringify({ e: "message:send", d: { room, text, clientId: newClientId() }, id }));
    return true;
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    const ws = this.ws;
    this.ws = undefined;
    this.connected = false;
    if (ws !== undefined) {
      ws.removeAllListeners();
      ws.on("error", () => {});
      ws.close();
    }
  }
}
