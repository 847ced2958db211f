import { Agent, type ClientRequest, type IncomingMessage, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { ProxyServer } from "http-proxy-3";
import { chooseRoute, type Route, withAffinityCookie } from "./affinity.ts";
import type { BackendState, BackendTable } from "./backends.ts";
import { LeastConnections } from "./balancer.ts";
import { RouterErrorCode, sendError, sendSocketError } from "./errors.ts";

export interface AffinityProxyOptions {
  table: BackendTable;
  /** The cookie that makes a request sticky together with `__VCAP_ID__`. */
  sessionCookieName: string;
  /** How long an instance may take to start answering a request. */
  proxyTimeoutMs: number;
  /**
   * How long a pooled connection to an instance may sit idle before the
   * router closes it; below the instances' keep-alive timeout (see IDLE_SOCKET_MS).
   * @default 4000
   */
  idleSocketMs?: number;
  /** Told about every request that ends in a router error (not about client aborts). */
  onError?: (event: ProxyErrorEvent) => void;
}

/** The router's own counts since it started, for the cluster's stats. */
export interface RouterCounts {
  /** Requests answered (HTTP responses finished, WebSocket upgrades answered). */
  requests: number;
  /** Answers the router made itself because no instance could take the request (502/503/504). */
  errors: number;
}

export interface ProxyErrorEvent {
  backend: string;
  method: string | undefined;
  url: string | undefined;
  code: string | undefined;
  status: number;
  retried: boolean;
}

/** What the proxy remembers about the current attempt of a client request. */
interface Attempt {
  route: Route;
  responded: boolean;
  timedOut: boolean;
  upgraded: boolean;
  /** Sent on a pooled connection that an earlier request had used (`request.reusedSocket`). */
  reusedSocket: boolean;
}

/**
 * Why the router answered "the instance could not be reached" now and then
 * with every instance up: an instance's HTTP server closes a keep-alive
 * connection once it has been idle for its keepAliveTimeout (Node's default
 * 5 s). The router's pool had no idle limit of its own, and Node's agent then
 * ignores the server's `Keep-Alive: timeout=5` hint, so a pooled connection
 * stayed until the instance closed it. A request the router sent on it in
 * that same moment met ECONNRESET before any answer: a 502, for a POST (login,
 * a long-polling send) as for anything else that is not retried. Node
 * documents this race under `request.reusedSocket`; test/router.test.ts
 * reproduces it step by step. Two defences: the router drops a pooled
 * connection itself after this long idle (the agent also honours a shorter
 * hint, less 1 s), so the race needs an instance whose keep-alive timeout is
 * shorter than this; and a GET or HEAD that still meets a reset on a reused
 * connection is sent again, to the same instance if need be.
 */
const IDLE_SOCKET_MS = 4000;

/** RFC 9110 §7.6.1 headers that a proxy does not forward (a WebSocket upgrade keeps its own). */
const HOP_BY_HOP = ["connection", "keep-alive", "proxy-connection", "te", "upgrade"] as const;

const NETWORK_ERRORS_BEFORE_RESPONSE = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE"]);

/** GET and HEAD without a body can be sent again to another instance without harm. */
function canRetry(req: IncomingMessage): boolean {
  if (req.method !== "GET" && req.method !== "HEAD") return false;
  const length = req.headers["content-length"];
  return req.headers["transfer-encoding"] === undefined && (length === undefined || length === "0");
}

function errorCode(err: unknown): string | undefined {
  if (typeof err !== "object" || err === null || !("code" in err)) return undefined;
  return typeof err.code === "string" ? err.code : undefined;
}

/**
 * HTTP and WebSocket proxying with gorouter affinity on top of http-proxy-3.
 * Load is counted per backend (requests in flight plus upgraded sockets) for
 * the balancer. A GET or HEAD whose instance refused the connection, or
 * dropped it before answering, is sent once more to another instance, so that
 * a killed instance does not show as errors on page loads.
 */
export class AffinityProxy {
  private readonly proxy: ProxyServer;
  private readonly agent: Agent;
  private readonly counts: RouterCounts = { requests: 0, errors: 0 };
  private readonly balancer = new LeastConnections();
  private readonly attempts = new WeakMap<IncomingMessage, Attempt>();
  private readonly sockets = new Set<Duplex>();

  constructor(private readonly options: AffinityProxyOptions) {
    // An agent's `timeout` is the idle limit of the pooled sockets: http-proxy-3
    // sets the proxy timeout on a socket while a request uses it, and the agent
    // puts its own back when the socket returns to the pool.
    this.agent = new Agent({ keepAlive: true, timeout: options.idleSocketMs ?? IDLE_SOCKET_MS });
    this.proxy = new ProxyServer({
      xfwd: true,
      ws: true,
      agent: this.agent,
      proxyTimeout: options.proxyTimeoutMs,
    });
    this.proxy.on("proxyReq", (proxyReq, req) => this.watchTimeout(proxyReq, req));
    this.proxy.on("proxyRes", (proxyRes, req) => this.onResponse(proxyRes, req));
    this.proxy.on("proxyReqWs", (proxyReq, req) => this.onUpgradeRequest(proxyReq, req));
    // Every call passes its own error callback; this only keeps a stray event from throwing.
    this.proxy.on("error", () => {});
  }

  web(req: IncomingMessage, res: ServerResponse): void {
    // Hop-by-hop headers are about the client's connection to the router, not
    // the router's pooled one to the instance: a client's "Connection: close"
    // passed on would close that pooled connection after every request.
    for (const name of HOP_BY_HOP) delete req.headers[name];
    res.once("finish", () => {
      this.counts.requests++;
    });
    this.dispatchWeb(req, res, new Set(), 1);
  }

  /** Requests answered and router-made errors since the start. */
  figures(): RouterCounts {
    return { ...this.counts };
  }

  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on("error", () => socket.destroy());
    const route = chooseRoute(req.headers, this.options.table, this.balancer, this.cookieName);
    this.counts.requests++;
    if (route === undefined) {
      this.counts.errors++;
      sendSocketError(socket, 503, RouterErrorCode.Unavailable, "no instance is running");
      return;
    }
    const backend = route.backend;
    const attempt = this.remember(req, route);
    backend.upgraded++;
    this.sockets.add(socket);
    socket.once("close", () => {
      backend.upgraded--;
      this.sockets.delete(socket);
    });
    req.headers["x-forwarded-host"] ??= req.headers.host;
    this.proxy.ws(req, socket, head, { target: this.targetOf(backend) }, (err) => {
      if (attempt.upgraded) {
        socket.destroy();
        return;
      }
      this.report(req, backend, err, 502, false);
      this.counts.errors++;
      sendSocketError(
        socket,
        502,
        RouterErrorCode.Unavailable,
        "the instance could not be reached",
      );
    });
  }

  /** Cuts every upgraded connection and idle connection to the instances. */
  close(): void {
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    this.agent.destroy();
  }

  private get cookieName(): string {
    return this.options.sessionCookieName;
  }

  private dispatchWeb(
    req: IncomingMessage,
    res: ServerResponse,
    excluded: Set<string>,
    tryNumber: number,
  ): void {
    const route = chooseRoute(
      req.headers,
      this.options.table,
      this.balancer,
      this.cookieName,
      excluded,
    );
    if (route === undefined) {
      const message =
        excluded.size === 0 ? "no instance is running" : "no other instance could take the request";
      this.counts.errors++;
      sendError(res, 503, RouterErrorCode.Unavailable, `${message}; try again in a moment`);
      return;
    }
    const backend = route.backend;
    excluded.add(backend.id);
    const attempt = this.remember(req, route);
    backend.inflight++;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      backend.inflight--;
    };
    res.once("close", release);
    this.proxy.web(req, res, { target: this.targetOf(backend) }, (err) => {
      // http-proxy-3 leaves its listeners on `req`; an older attempt's callback may fire again.
      if (this.attempts.get(req) !== attempt) return;
      release();
      if (res.writableEnded || req.socket.destroyed) return;
      const code = errorCode(err);
      const retry =
        tryNumber === 1 &&
        !res.headersSent &&
        !attempt.responded &&
        !attempt.timedOut &&
        canRetry(req) &&
        code !== undefined &&
        NETWORK_ERRORS_BEFORE_RESPONSE.has(code);
      if (retry) {
        // A reset on a reused connection says that connection was stale, not
        // that the instance is gone: it may take the retry (see IDLE_SOCKET_MS).
        if (attempt.reusedSocket && code === "ECONNRESET") excluded.delete(backend.id);
        this.dispatchWeb(req, res, excluded, tryNumber + 1);
        return;
      }
      if (attempt.timedOut) {
        const seconds = Math.round(this.options.proxyTimeoutMs / 1000);
        this.report(req, backend, err, 504, tryNumber > 1);
        this.counts.errors++;
        sendError(
          res,
          504,
          RouterErrorCode.Unavailable,
          `the instance did not answer within ${seconds} s`,
        );
        return;
      }
      this.report(req, backend, err, 502, tryNumber > 1);
      this.counts.errors++;
      sendError(res, 502, RouterErrorCode.Unavailable, "the instance could not be reached");
    });
  }

  private remember(req: IncomingMessage, route: Route): Attempt {
    const attempt: Attempt = {
      route,
      responded: false,
      timedOut: false,
      upgraded: false,
      reusedSocket: false,
    };
    this.attempts.set(req, attempt);
    return attempt;
  }

  private targetOf(backend: BackendState): { host: string; port: number; protocol: string } {
    return { host: backend.host, port: backend.port, protocol: "http:" };
  }

  private watchTimeout(proxyReq: ClientRequest, req: IncomingMessage): void {
    const attempt = this.attempts.get(req);
    // The agent has chosen the socket by now, in the request's constructor.
    if (attempt !== undefined) attempt.reusedSocket = proxyReq.reusedSocket;
    proxyReq.once("timeout", () => {
      if (attempt !== undefined) attempt.timedOut = true;
    });
  }

  private onResponse(proxyRes: IncomingMessage, req: IncomingMessage): void {
    const attempt = this.attempts.get(req);
    if (attempt === undefined) return;
    attempt.responded = true;
    const cookies = withAffinityCookie(
      proxyRes.headers["set-cookie"],
      attempt.route,
      this.cookieName,
    );
    if (cookies !== undefined) proxyRes.headers["set-cookie"] = cookies;
  }

  private onUpgradeRequest(proxyReq: ClientRequest, req: IncomingMessage): void {
    const attempt = this.attempts.get(req);
    if (attempt === undefined) return;
    // Registered before http-proxy-3's own listener, so the 101 it writes carries the cookie.
    proxyReq.once("upgrade", (proxyRes: IncomingMessage) => {
      attempt.upgraded = true;
      const cookies = withAffinityCookie(
        proxyRes.headers["set-cookie"],
        attempt.route,
        this.cookieName,
      );
      if (cookies !== undefined) proxyRes.headers["set-cookie"] = cookies;
    });
  }

  private report(
    req: IncomingMessage,
    backend: BackendState,
    err: unknown,
    status: number,
    retried: boolean,
  ): void {
    this.options.onError?.({
      backend: backend.id,
      method: req.method,
      url: req.url,
      code: errorCode(err) ?? (err instanceof Error ? err.message : undefined),
      status,
      retried,
    });
  }
}
