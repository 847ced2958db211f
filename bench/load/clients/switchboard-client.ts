import {
  type ConnectionStatus,
  CookieJar,
  HttpApi,
  SwitchboardClient,
} from "../../../src/client/core/index.ts";
import type { ClientSpec } from "../ipc.ts";
import {
  type BenchClient,
  type ClientHooks,
  firstTime,
  keepAliveAgent,
  SHOWN_PER_ROOM,
} from "./bench-client.ts";

/**
 * A Switchboard user: the browser's own client logic (`SwitchboardClient`:
 * reconnection with backoff, rejoin from the last offset, outbox), with a
 * cookie jar that starts with a shared login. Like the browser app's page
 * load, it asks `GET /api/session` once before connecting: the answer
 * refreshes the session cookie, and the router then gives this user its own
 * `__VCAP_ID__` (the shared login carries none). Each user remembers on its own
 * that a WebSocket worked, as a browser page does: its first connection
 * starts with long-polling, a reconnect goes straight to WebSocket.
 * Deliveries are what the user would see: the messages each room view adds,
 * in order, once.
 */
export class SwitchboardBenchClient implements BenchClient {
  private readonly client: SwitchboardClient;
  private readonly loaded = new Set<string>();
  private readonly first = firstTime();
  instance: string | undefined;

  constructor(
    readonly spec: ClientSpec,
    local: number,
    hooks: ClientHooks,
  ) {
    const jar = new CookieJar();
    jar.set(spec.cookie.name, spec.cookie.value);
    this.client = new SwitchboardClient({
      url: spec.url,
      http: new HttpApi(spec.url, jar),
      rooms: spec.rooms,
      fallbackUrls: spec.fallbackUrls ?? [],
      keepMessages: SHOWN_PER_ROOM,
      agent: keepAliveAgent,
    });
    this.client.on("room", (view, change) => {
      const firstLoad = !this.loaded.has(view.name);
      this.loaded.add(view.name);
      if (change.reset && !firstLoad) hooks.reset(local);
      for (const message of change.added) {
        hooks.delivered(local, message.text, change.reset, message.ts);
      }
    });
    this.client.on("status", (status: ConnectionStatus) => {
      if (status.state === "connected") {
        this.instance = status.instance;
        hooks.status(local, true);
        this.first.resolve();
      } else if (status.state === "reconnecting") {
        hooks.status(local, false);
        hooks.attempt(local);
      }
    });
    // Every presence frame, a batch with names or a count alone, changes a
    // room's members ("members"); one with names then tells each user
    // ("presence"), in the same turn. A frame that told nobody by the end of
    // that turn was a count alone.
    let frame = { named: false };
    this.client.on("presence", () => {
      frame.named = true;
    });
    this.client.on("members", () => {
      const current = { named: false };
      frame = current;
      queueMicrotask(() => hooks.presence(local, !current.named));
    });
    this.client.on("outbox", (entries) => {
      for (const entry of entries) {
        if (entry.status !== "failed") continue;
        hooks.sendError(local);
        this.client.discard(entry.clientId);
      }
    });
  }

  get connected(): boolean {
    return this.client.status.state === "connected";
  }

  async start(): Promise<void> {
    if ((await this.session()) === undefined) throw new Error("not logged in");
    this.client.start();
    return this.first.promise;
  }

  /**
   * The page load's `GET /api/session`, tried again (twice at most) when the
   * connection failed: a pooled keep-alive connection that the instance had
   * just closed ("other side closed", which hundreds of 10,000 clients met
   * on a busy machine) is retried by a browser without the page noticing.
   */
  private async session(): ReturnType<SwitchboardClient["http"]["session"]> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.client.http.session();
      } catch (error) {
        const network = error instanceof TypeError && error.message === "fetch failed";
        if (!network || attempt >= 3) throw error;
      }
    }
  }

  send(room: string, text: string): boolean {
    const connected = this.connected;
    // Sent or not, it waits in the outbox and goes out after a reconnect.
    this.client.send(room, text);
    return connected;
  }

  close(): void {
    this.client.close();
  }
}
