import { Agent } from "node:http";
import { CookieJar, HttpApi, SwitchboardClient } from "../../src/client/core/index.ts";
import { ClientLedger } from "./ledger.ts";

export interface LoadOptions {
  routerUrl: string;
  clients: number;
  rooms: string[];
  roomsPerClient: number;
  /** Share of the clients that stay on HTTP long-polling. */
  pollingShare: number;
  /** Mean interval between two sends of one client (ms). */
  sendIntervalMs: number;
}

export interface LoadClient {
  client: SwitchboardClient;
  ledger: ClientLedger;
  rooms: string[];
  transport: "polling" | "websocket";
}

/**
 * Clients that chat continuously through the router, each a SwitchboardClient
 * (the browser's logic) with a ledger of what it showed.
 */
export class ChatLoad {
  readonly clients: LoadClient[] = [];
  private sending = false;
  private timers: NodeJS.Timeout[] = [];
  private sequence = 0;
  /** Each acknowledged send: its room, when it was sent and when its acknowledgement came. */
  readonly acks: { room: string; sentAt: number; at: number }[] = [];
  /** Sends not acknowledged yet, by clientId. */
  private readonly pending = new Map<string, { room: string; sentAt: number }>();
  /** Connections reused across polls, as a browser does. */
  private readonly agent = new Agent({ keepAlive: true });

  constructor(private readonly options: LoadOptions) {}

  async connect(runId: string): Promise<void> {
    const { options } = this;
    const pollingCount = Math.round(options.clients * options.pollingShare);
    const prepared = await Promise.all(
      Array.from({ length: options.clients }, async (_unused, index) => {
        const name = `${runId}_${index}`;
        const http = new HttpApi(options.routerUrl, new CookieJar());
        await http.register(name, "chaos-password");
        const rooms = Array.from(
          { length: options.roomsPerClient },
          (_r, k) => options.rooms[(index + k) % options.rooms.length] ?? "lobby",
        );
        const transport: LoadClient["transport"] = index < pollingCount ? "polling" : "websocket";
        const client = new SwitchboardClient({
          url: options.routerUrl,
          http,
          rooms,
          transports: transport === "polling" ? ["polling"] : ["polling", "websocket"],
          keepMessages: 50,
          agent: this.agent,
        });
        return { client, ledger: new ClientLedger(name), rooms, transport };
      }),
    );
    for (const entry of prepared) {
      this.watch(entry);
      this.clients.push(entry);
    }
    await Promise.all(prepared.map((entry) => entry.client.open()));
  }

  private watch({ client, ledger }: LoadClient): void {
    // An entry leaves the outbox when its acknowledgement says ok.
    client.on("outbox", (entries) => {
      const waiting = new Set(entries.map((entry) => entry.clientId));
      const at = Date.now();
      for (const clientId of ledger.sent) {
        const send = this.pending.get(clientId);
        if (send === undefined || waiting.has(clientId)) continue;
        this.pending.delete(clientId);
        this.acks.push({ ...send, at });
      }
    });
    client.on("room", (view, change) => {
      if (change.reset) {
        if (change.added.length === 0) ledger.startAt(view.name, view.offset);
        else ledger.reload(view.name, change.added);
      } else {
        ledger.show(view.name, change.added);
      }
    });
    client.on("status", (status) => {
      const now = performance.now();
      if (status.state === "reconnecting") ledger.disconnected(now);
      else if (status.state === "connected") ledger.caughtUp(now);
    });
  }

  /** Each client sends to one of its rooms about every `sendIntervalMs`, with jitter. */
  startSending(): void {
    if (this.sending) return;
    this.sending = true;
    for (const entry of this.clients) {
      const tick = () => {
        if (!this.sending) return;
        const room = entry.rooms[Math.floor(Math.random() * entry.rooms.length)] ?? "lobby";
        this.sequence += 1;
        const sent = entry.client.send(room, `m${this.sequence} from ${entry.ledger.name}`);
        entry.ledger.sent.add(sent.clientId);
        this.pending.set(sent.clientId, { room, sentAt: Date.now() });
        this.timers.push(setTimeout(tick, this.options.sendIntervalMs * (0.5 + Math.random())));
      };
      this.timers.push(setTimeout(tick, Math.random() * this.options.sendIntervalMs));
    }
  }

  stopSending(): void {
    this.sending = false;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers = [];
  }

  /** True when every client is connected with an empty outbox and has shown its rooms up to `latest`. */
  settled(latest: Map<string, number>): boolean {
    return this.clients.every(
      ({ client, rooms }) =>
        client.status.state === "connected" &&
        client.outbox.sending().length === 0 &&
        rooms.every((room) => (client.rooms.get(room)?.offset ?? -1) >= (latest.get(room) ?? 0)),
    );
  }

  close(): void {
    this.stopSending();
    for (const { client } of this.clients) client.close();
    this.agent.destroy();
  }
}
