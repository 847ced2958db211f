import WebSocket from "ws";
import { newClientId } from "./bench-client.ts";
import { RecipeBenchClient } from "./recipe-client.ts";

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
export class CeilingBenchClient extends RecipeBenchClient {
  private ws: WebSocket | undefined;
  private nextId = 1;
  private joins = new Map<number, () => void>();

  protected open(): void {
    const url = `${this.spec.url.replace(/^http/, "ws")}/ws`;
    const ws = new WebSocket(url, {
      headers: { cookie: this.jar.header() ?? "" },
      perMessageDeflate: false,
    });
    this.ws = ws;
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
