import { CookieJar, HttpApi } from "../../../src/client/core/index.ts";
import type { ClientSpec } from "../ipc.ts";
import { type BenchClient, type ClientHooks, firstTime, socketIoBackoff } from "./bench-client.ts";

/**
 * What the plain and ceiling users share: the classic recipe's reconnection.
 * Before every (re)connection they refresh the session cookie (and so the
 * router's affinity) with `GET /api/session`, then open their transport; a
 * lost transport is retried with Socket.IO's default delays. Subclasses open,
 * drop and use the transport, and may reconnect otherwise (`reconnection`).
 */
export abstract class RecipeBenchClient implements BenchClient {
  protected http: HttpApi;
  /** The instance (or router) it connects to; another of `fallbackUrls` after a failure. */
  protected url: string;
  protected readonly jar = new CookieJar();
  private readonly first = firstTime();
  private attempt = 0;
  protected closed = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  connected = false;
  instance: string | undefined;

  constructor(
    readonly spec: ClientSpec,
    protected readonly local: number,
    protected readonly hooks: ClientHooks,
  ) {
    this.jar.set(spec.cookie.name, spec.cookie.value);
    this.url = spec.url;
    this.http = new HttpApi(spec.url, this.jar);
  }

  start(): Promise<void> {
    void this.connect();
    return this.first.promise;
  }

  abstract send(room: string, text: string): boolean;

  /** Opens the transport and joins the rooms; calls `joined()` or `lost()`. */
  protected abstract open(): void;

  /** Forgets and closes the current transport, if any. */
  protected abstract drop(): void;

  /**
   * How this user reconnects: whether it asks `GET /api/session` before
   * every connection or only before the first one (as a page load does), and
   * the delay before each retry.
   */
  protected readonly reconnection: {
    sessionEveryTime: boolean;
    delay: (attempt: number) => number;
  } = { sessionEveryTime: true, delay: socketIoBackoff };
  private sessionAsked = false;

  private async connect(): Promise<void> {
    if (this.closed) return;
    this.hooks.attempt(this.local);
    if (this.sessionAsked && !this.reconnection.sessionEveryTime) {
      this.open();
      return;
    }
    try {
      const session = await this.http.session();
      if (session === undefined) throw new Error("logged out");
      this.instance = session.instance;
      this.sessionAsked = true;
    } catch {
      this.retry();
      return;
    }
    if (!this.closed) this.open();
  }

  protected joined(): void {
    this.attempt = 0;
    this.connected = true;
    this.hooks.status(this.local, true);
    this.first.resolve();
  }

  protected lost(): void {
    this.drop();
    if (this.connected) {
      this.connected = false;
      this.hooks.status(this.local, false);
    }
    this.retry();
  }

  private retry(): void {
    if (this.closed || this.timer !== undefined) return;
    const others = [this.spec.url, ...(this.spec.fallbackUrls ?? [])].filter(
      (url) => url !== this.url,
    );
    if ((this.spec.fallbackUrls ?? []).length > 0 && others.length > 0) {
      this.url = others[Math.floor(Math.random() * others.length)] ?? this.url;
      this.http = new HttpApi(this.url, this.jar);
    }
    const delay = this.reconnection.delay(this.attempt);
    this.attempt += 1;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.connect();
    }, delay);
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.connected = false;
    this.drop();
  }
}
