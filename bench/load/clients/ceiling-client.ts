import WebSocket from "ws";
import { backoffDelay } from "../../../src/client/core/index.ts";
import { newClientId, RecentMessages } from "./bench-client.ts";
import { RecipeBenchClient } from "./recipe-client.ts";

interface ServerFrame {
  e: string;
  id?: number;
  d: { ok?: boolean; room?: string; text?: string; ts?: number };
}

/**
 * A user of the ceiling reference: one `ws` WebSocket with JSON frames, which
 * keeps the last `SHOWN_PER_ROOM` messages of each room as a chat screen does. It
 * reconnects as Switchboard's client does (straight to the handshake, which
 * checks the session, with the same backoff), so that its reconnect storm is
 * the limit of the transport and not of a slower reconnection; it asks
 * `GET /api/session` only before its first connection, as a page load does.
 * The instance it landed on comes in the 101's `X-Instance-Id`.
 */
export class CeilingBenchClient extends RecipeBenchClient {
  protected override readonly reconnection = {
    sessionEveryTime: false,
    delay: (attempt: number) => backoffDelay(attempt),
  };
  private ws: WebSocket | undefined;
  private nextId = 1;
  private joins = new Map<number, () => void>();
  private readonly shown = new RecentMessages<ServerFrame["d"]>();

  protected open(): void {
    const url = `${this.url.replace(/^http/, "ws")}/ws`;
    const ws = new WebSocket(url, {
      headers: { cookie: this.jar.header() ?? "" },
      perMessageDeflate: false,
    });
    this.ws = ws;
    ws.on("upgrade", (res) => {
      const instance = res.headers["x-instance-id"];
      if (typeof instance === "string") this.instance = instance;
    });
    const lost = () => {
      if (ws === this.ws) this.lost();
    };
    ws.on("open", () => {
      let waiting = this.spec.rooms.length;
      this.joins.clear();
      for (const room of this.spec.rooms) {
        const id = this.nextId++;
        this.joins.set(id, () => {
          waiting -= 1;
          if (waiting === 0 && ws === this.ws) this.joined();
        });
        ws.send(JSON.stringify({ e: "room:join", d: { room }, id }));
      }
    });
    ws.on("message", (data) => {
      const frame = JSON.parse(String(data)) as ServerFrame;
      if (frame.e === "message") {
        this.shown.add(frame.d.room ?? "", frame.d);
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
    ws.on("error", lost);
    ws.on("close", lost);
  }

  protected drop(): void {
    const ws = this.ws;
    this.ws = undefined;
    if (ws === undefined) return;
    ws.removeAllListeners();
    ws.on("error", () => {});
    ws.terminate();
  }

  send(room: string, text: string): boolean {
    const ws = this.ws;
    if (!this.connected || ws === undefined) return false;
    const id = this.nextId++;
    ws.send(JSON.stringify({ e: "message:send", d: { room, text, clientId: newClientId() }, id }));
    return true;
  }
}
