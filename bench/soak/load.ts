import { Agent } from "node:http";
import {
  CookieJar,
  HttpApi,
  type OutboxEntry,
  SwitchboardClient,
} from "../../src/client/core/index.ts";
import type { Message } from "../../src/protocol/index.ts";

export interface SoakLoadOptions {
  routerUrl: string;
  rooms: string[];
  /** Clients that stay connected and chat the whole run. */
  chatters: number;
  /** Mean interval between two sends of one chatter (ms). */
  sendIntervalMs: number;
  /** Accounts that come and go: log in, connect, chat a little, leave, log out (mostly). */
  visitorAccounts: number;
  /** Mean interval between two visits (ms). */
  visitIntervalMs: number;
  /** An acknowledged message the observer has not shown after this long counts as lost (ms). */
  lostAfterMs: number;
  /**
   * How often the clients that stay (chatters, observer) ask GET /api/session,
   * as an open page does now and then: a socket alone does not keep a session
   * alive, and it expires after SESSION_TTL_SECONDS without a request (ms).
   */
  sessionRefreshMs: number;
  log: (line: string) => void;
}

/** Counters since the start of the run. */
export interface LoadCounts {
  /** Messages the server acknowledged to their sender. */
  acked: number;
  /** Messages shown by any client (one message shown by ten clients counts ten). */
  delivered: number;
  /** Acknowledged messages the observer never showed (within `lostAfterMs`). */
  lost: number;
  /** Sends that ended as failed in an outbox (a final refusal). */
  refused: number;
  logins: number;
  logouts: number;
  visits: number;
  /** Visits that failed (login, connect), by their error message. */
  visitErrors: number;
  /** Pages fetched without logging in. */
  anonymous: number;
  /** Times the observer's view of a room was replaced after its first load. */
  observerResets: number;
  /** Clients that stay and were logged out all the same (their session expired): a broken run. */
  loggedOut: number;
}

const PASSWORD = "soak-password";

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Mean `ms`, between half and one and a half of it. */
function jitter(ms: number): number {
  return ms * (0.5 + Math.random());
}

/**
 * The soak's traffic through the router, with the browser's own client
 * logic: chatters that stay, visitors that log in, join, chat, leave and log
 * out (a fifth of them just go, leaving their session to expire), people who
 * open the page without logging in, and one observer in every room whose view
 * is the ground truth for "lost". Everything it remembers is bounded: a
 * message is forgotten once the observer showed it, or once it counts as lost.
 */
export class SoakLoad {
  readonly counts: LoadCounts = {
    acked: 0,
    delivered: 0,
    lost: 0,
    refused: 0,
    logins: 0,
    logouts: 0,
    visits: 0,
    visitErrors: 0,
    anonymous: 0,
    observerResets: 0,
    loggedOut: 0,
  };
  private readonly agent = new Agent({ keepAlive: true });
  private readonly clients = new Set<SwitchboardClient>();
  /** clientId -> when its ack came, until the observer shows it. */
  private readonly awaiting = new Map<string, number>();
  /** clientId -> when the observer showed it, for acks that come after the message. */
  private readonly observed = new Map<string, number>();
  private running = false;
  private readonly refreshers: NodeJS.Timeout[] = [];
  private readonly loops: Promise<void>[] = [];
  private sequence = 0;
  private readonly runId = Date.now().toString(36);

  constructor(private readonly options: SoakLoadOptions) {}

  private http(): HttpApi {
    return new HttpApi(this.options.routerUrl, new CookieJar());
  }

  private client(http: HttpApi, rooms: string[]): SwitchboardClient {
    const client = new SwitchboardClient({
      url: this.options.routerUrl,
      http,
      rooms,
      keepMessages: 20,
      agent: this.agent,
    });
    client.on("room", (_view, change) => {
      this.counts.delivered += change.added.length;
    });
    this.trackAcks(client);
    this.clients.add(client);
    return client;
  }

  /** An entry that leaves the outbox without failing was acknowledged. */
  private trackAcks(client: SwitchboardClient): void {
    let before = new Map<string, OutboxEntry>();
    client.on("outbox", (entries) => {
      const now = new Map(entries.map((entry) => [entry.clientId, entry]));
      for (const [clientId, entry] of before) {
        if (entry.status === "sending" && !now.has(clientId)) this.acked(clientId);
      }
      for (const entry of entries) {
        if (entry.status === "failed" && before.get(entry.clientId)?.status === "sending") {
          this.counts.refused += 1;
          this.options.log(`refused: ${entry.error?.code} ${entry.error?.message}`);
        }
      }
      before = now;
    });
  }

  private acked(clientId: string): void {
    this.counts.acked += 1;
    if (this.observed.delete(clientId)) return;
    this.awaiting.set(clientId, Date.now());
  }

  private show(messages: Message[]): void {
    const now = Date.now();
    for (const message of messages) {
      if (!this.awaiting.delete(message.clientId)) this.observed.set(message.clientId, now);
    }
  }

  /** Counts as lost what the observer has not shown `lostAfterMs` after its ack; forgets old sightings. */
  sweep(): void {
    const now = Date.now();
    for (const [clientId, at] of this.awaiting) {
      if (now - at < this.options.lostAfterMs) continue;
      this.awaiting.delete(clientId);
      this.counts.lost += 1;
      this.options.log(`lost: ${clientId} acknowledged ${now - at} ms ago, never shown`);
    }
    for (const [clientId, at] of this.observed) {
      if (now - at > this.options.lostAfterMs) this.observed.delete(clientId);
    }
  }

  /** Registers the accounts and connects the observer and the chatters. */
  async start(): Promise<void> {
    const { options } = this;
    const observerHttp = this.http();
    await observerHttp.register(`obs_${this.runId}`, PASSWORD);
    const observer = this.client(observerHttp, options.rooms);
    let loaded = false;
    observer.on("room", (_view, change) => {
      if (change.reset && loaded) this.counts.observerResets += 1;
      this.show(change.added);
    });
    await observer.open();
    loaded = true;
    this.stays(observer, observerHttp, "the observer");

    const chatters = await Promise.all(
      Array.from({ length: options.chatters }, async (_unused, i) => {
        const http = this.http();
        await http.register(`chat_${this.runId}_${i}`, PASSWORD);
        const rooms = [0, 1, 2].map((k) => options.rooms[(i + k * 7) % options.rooms.length]);
        return this.client(
          http,
          rooms.filter((room): room is string => room !== undefined),
        );
      }),
    );
    await Promise.all(chatters.map((client) => client.open()));
    for (const [i, client] of chatters.entries()) this.stays(client, client.http, `chatter ${i}`);
    for (let i = 0; i < options.visitorAccounts; i++) {
      await this.http().register(`visit_${this.runId}_${i}`, PASSWORD);
    }
    this.running = true;
    for (const client of chatters) this.loops.push(this.chat(client));
    this.loops.push(this.visits(), this.anonymous());
  }

  /** A client that stays the whole run: its session is kept alive, and losing it is counted. */
  private stays(client: SwitchboardClient, http: HttpApi, who: string): void {
    client.on("logged-out", () => {
      this.counts.loggedOut += 1;
      this.options.log(`${who} was logged out`);
    });
    const timer = setInterval(() => {
      http.session().catch(() => undefined);
    }, this.options.sessionRefreshMs);
    this.refreshers.push(timer);
  }

  private send(client: SwitchboardClient, room: string): void {
    this.sequence += 1;
    client.send(room, `soak ${this.sequence} ${"x".repeat(40 + (this.sequence % 60))}`);
  }

  private async chat(client: SwitchboardClient): Promise<void> {
    await delay(Math.random() * this.options.sendIntervalMs);
    while (this.running) {
      const rooms = [...client.rooms.keys()];
      const room = rooms[Math.floor(Math.random() * rooms.length)];
      if (room !== undefined) this.send(client, room);
      await delay(jitter(this.options.sendIntervalMs));
    }
  }

  private async visits(): Promise<void> {
    let next = 0;
    while (this.running) {
      await delay(jitter(this.options.visitIntervalMs));
      if (!this.running) return;
      const account = next % this.options.visitorAccounts;
      next += 1;
      this.counts.visits += 1;
      this.visit(`visit_${this.runId}_${account}`).catch((error: unknown) => {
        this.counts.visitErrors += 1;
        this.options.log(`visit failed: ${error instanceof Error ? error.message : error}`);
      });
    }
  }

  /** One person's visit: log in, chat in two rooms (one joined and left), go. */
  private async visit(name: string): Promise<void> {
    const http = this.http();
    await http.login(name, PASSWORD);
    this.counts.logins += 1;
    const rooms = this.options.rooms;
    const home = rooms[Math.floor(Math.random() * rooms.length)] ?? "lobby";
    const extra = rooms[Math.floor(Math.random() * rooms.length)] ?? "lobby";
    const client = this.client(http, [home]);
    try {
      await client.open();
      this.send(client, home);
      if (extra !== home) {
        await client.join(extra);
        this.send(client, extra);
      }
      await delay(jitter(5000));
      // Leave only once everything typed was acknowledged (as a person waits for the tick).
      const deadline = Date.now() + 30_000;
      while (client.outbox.sending().length > 0 && Date.now() < deadline) await delay(100);
      if (extra !== home) await client.leave(extra);
    } finally {
      client.close();
      this.clients.delete(client);
    }
    if (Math.random() < 0.8) {
      await http.logout();
      this.counts.logouts += 1;
    }
  }

  /** Someone opens the page and is told to log in: no session may be stored for them. */
  private async anonymous(): Promise<void> {
    while (this.running) {
      await delay(jitter(this.options.visitIntervalMs));
      if (!this.running) return;
      try {
        const http = this.http();
        await fetch(this.options.routerUrl, { signal: AbortSignal.timeout(5000) }).then((res) =>
          res.arrayBuffer(),
        );
        await http.session();
        this.counts.anonymous += 1;
      } catch (error) {
        this.options.log(
          `anonymous visit failed: ${error instanceof Error ? error.message : error}`,
        );
      }
    }
  }

  /** Clients connected right now, the observer included. */
  get connected(): number {
    let n = 0;
    for (const client of this.clients) if (client.status.state === "connected") n += 1;
    return n;
  }

  /** Unacknowledged sends still in the chatters' outboxes. */
  get unsent(): number {
    let n = 0;
    for (const client of this.clients) n += client.outbox.sending().length;
    return n;
  }

  /** Stops new traffic and waits (bounded) for the outboxes to empty and the observer to catch up. */
  async stop(timeoutMs = 60_000): Promise<void> {
    this.running = false;
    for (const timer of this.refreshers) clearInterval(timer);
    await Promise.all(this.loops);
    const deadline = Date.now() + timeoutMs;
    while ((this.unsent > 0 || this.awaiting.size > 0) && Date.now() < deadline) {
      await delay(200);
    }
    // What is still awaited now was not shown in time.
    for (const [clientId] of this.awaiting) {
      this.counts.lost += 1;
      this.options.log(`lost: ${clientId} never shown by the end`);
    }
    this.awaiting.clear();
  }

  close(): void {
    this.running = false;
    for (const timer of this.refreshers) clearInterval(timer);
    for (const client of this.clients) client.close();
    this.clients.clear();
    this.agent.destroy();
  }
}
