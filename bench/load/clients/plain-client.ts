import { io, type Socket } from "socket.io-client";
import { keepAliveAgent, newClientId, RecentMessages } from "./bench-client.ts";
import { RecipeBenchClient } from "./recipe-client.ts";

interface Ack {
  ok: boolean;
}

interface PlainMessage {
  room: string;
  text: string;
  ts: number;
}

/**
 * A user of the plain reference, written as a Socket.IO app is: socket.io-client
 * with its default transports, `room:join` on every connect, `message:send`
 * with an ack, and `message` events shown as they come (the last
 * `SHOWN_PER_ROOM` of each room kept, as a chat screen does). Like the classic
 * Cloud Foundry recipe it refreshes its session cookie (and so the router's
 * affinity) with `GET /api/session` before every (re)connection, which a
 * browser gets for free from its cookie store; the delays between attempts
 * are Socket.IO's defaults. Nothing sent while disconnected survives.
 */
export class PlainBenchClient extends RecipeBenchClient {
  private socket: Socket | undefined;
  private readonly shown = new RecentMessages<PlainMessage>();

  protected open(): void {
    const cookie = this.jar.header();
    const socket = io(this.url, {
      reconnection: false,
      forceNew: true,
      // engine.io-client types `agent` as string | boolean; in Node it is handed to http.request.
      agent: keepAliveAgent as unknown as string,
      ...(cookie === undefined ? {} : { extraHeaders: { cookie } }),
    });
    this.socket = socket;
    const lost = () => {
      if (socket === this.socket) this.lost();
    };
    socket.on("connect", () => {
      Promise.all(
        this.spec.rooms.map((room) => socket.timeout(10_000).emitWithAck("room:join", { room })),
      ).then(() => {
        if (socket === this.socket) this.joined();
      }, lost);
    });
    socket.on("message", (message: PlainMessage) => {
      this.shown.add(message.room, message);
      this.hooks.delivered(this.local, message.text, false, message.ts);
    });
    socket.on("connect_error", lost);
    socket.on("disconnect", lost);
  }

  protected drop(): void {
    const socket = this.socket;
    this.socket = undefined;
    socket?.removeAllListeners();
    socket?.disconnect();
  }

  send(room: string, text: string): boolean {
    const socket = this.socket;
    if (!this.connected || socket === undefined) return false;
    socket.emit("message:send", { room, text, clientId: newClientId() }, (ack: Ack) => {
      if (!ack.ok) this.hooks.sendError(this.local);
    });
    return true;
  }
}
