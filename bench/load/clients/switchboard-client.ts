import { Socket as EngineSocket } from "engine.io-client";
import {
  type ConnectionStatus,
  CookieJar,
  HttpApi,
  SwitchboardClient,
} from "../../../src/client/core/index.ts";
import type { ClientSpec } from "../ipc.ts";
import { type BenchClient, type ClientHooks, firstTime, keepAliveAgent } from "./bench-client.ts";

/**
 * engine.io-client remembers that a WebSocket worked in one static flag per
 * process (`rememberUpgrade`, which SwitchboardClient sets); a browser has it
 * per page. So that each simulated user behaves like its own browser (the
 * first visit starts with long-polling, a reconnect after an upgrade goes
 * straight to WebSocket), the flag is set to this user's own just before its
 * client opens a socket, which it does right after the session check.
 */
class OwnBrowserHttpApi extends HttpApi {
  constructor(
    url: string,
    jar: CookieJar,
    private readonly upgradedBefore: () => boolean,
  ) {
    super(url, jar);
  }

  override async session(): ReturnType<HttpApi["session"]> {
    const session = await super.session();
    EngineSocket.priorWebsocketSuccess = this.upgradedBefore();
    return session;
  }
}

/**
 * A Switchboard user: the browser's own client logic (`SwitchboardClient`:
 * session check, reconnection with backoff, rejoin from the last offset,
 * outbox), with a cookie jar that starts with a shared login. Deliveries are
 * what the user would see: the messages each room view adds, in order, once.
 */
export class SwitchboardBenchClient implements BenchClient {
  private readonly client: SwitchboardClient;
  private readonly loaded = new Set<string>();
  private readonly first = firstTime();
  private wasConnected = false;
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
      http: new OwnBrowserHttpApi(spec.url, jar, () => this.wasConnected),
      rooms: spec.rooms,
      keepMessages: 20,
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
        this.wasConnected = true;
        hooks.status(local, true);
        this.first.resolve();
      } else if (status.state === "reconnecting") {
        hooks.status(local, false);
        hooks.attempt(local);
      }
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

  start(): Promise<void> {
    this.client.start();
    return this.first.promise;
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
