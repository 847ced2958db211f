import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { adminRefusal } from "./admin-gate.ts";
import type { BackendTable } from "./backends.ts";
import { RouterErrorCode, sendError, sendSocketError } from "./errors.ts";
import { AffinityProxy, type ProxyErrorEvent, type RouterCounts } from "./proxy.ts";

/** A handler for the admin paths; the router has already checked that the caller is local. */
export type AdminHandler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

export interface RouterOptions {
  /** The routing table; the supervisor keeps it current. */
  table: BackendTable;
  /** @default "JSESSIONID" */
  sessionCookieName?: string;
  /**
   * How long an instance may take to start answering. Socket.IO holds a
   * long-polling GET for up to pingInterval (25 s) and gives up after
   * pingInterval + pingTimeout (45 s), so this stays above both.
   * @default 60000
   */
  proxyTimeoutMs?: number;
  /** Paths under this prefix go to `admin` instead of an instance. @default "/_cluster" */
  adminPrefix?: string;
  /** Without it, the admin prefix answers 404. */
  admin?: AdminHandler;
  /**
   * How long a pooled connection to an instance may stay idle; keep it below
   * the instances' keep-alive timeout (Node's default is 5 s).
   * @default 4000
   */
  idleSocketMs?: number;
  onProxyError?: (event: ProxyErrorEvent) => void;
}

/** The router's own figures, as the cluster's stats poller reads them. */
export interface RouterFigures extends RouterCounts {
  /** Requests in flight plus upgraded sockets, all backends. */
  connections: number;
}

export interface Router {
  readonly server: Server;
  listen(port: number, host?: string): Promise<number>;
  /** Counts since the start (the caller makes rates of them) and the connections open now. */
  figures(): RouterFigures;
  /** Stops taking connections and cuts the open ones, upgraded sockets included. */
  close(): Promise<void>;
}

function isUnder(url: string | undefined, prefix: string): boolean {
  const path = (url ?? "/").split("?", 1)[0] ?? "/";
  return path === prefix || path.startsWith(`${prefix}/`);
}

export function createRouter(options: RouterOptions): Router {
  const adminPrefix = options.adminPrefix ?? "/_cluster";
  const proxy = new AffinityProxy({
    table: options.table,
    sessionCookieName: options.sessionCookieName ?? "JSESSIONID",
    proxyTimeoutMs: options.proxyTimeoutMs ?? 60_000,
    ...(options.idleSocketMs === undefined ? {} : { idleSocketMs: options.idleSocketMs }),
    ...(options.onProxyError === undefined ? {} : { onError: options.onProxyError }),
  });

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    if (!isUnder(req.url, adminPrefix)) {
      proxy.web(req, res);
      return;
    }
    const refusal = adminRefusal(req);
    if (refusal !== undefined) {
      sendError(res, 403, RouterErrorCode.Forbidden, refusal);
      return;
    }
    if (options.admin === undefined) {
      sendError(res, 404, RouterErrorCode.NotFound, "no admin API on this router");
      return;
    }
    Promise.resolve(options.admin(req, res)).catch((err: unknown) => {
      const message = err instanceof Error ? err.message : String(err);
      sendError(res, 500, RouterErrorCode.Internal, message);
    });
  };

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (isUnder(req.url, adminPrefix)) {
      sendSocketError(socket, 404, RouterErrorCode.NotFound, "no WebSocket on the admin API");
      return;
    }
    proxy.upgrade(req, socket, head);
  };

  const server = createServer(onRequest);
  server.on("upgrade", onUpgrade);
  server.on("clientError", (_err, socket) => {
    if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
    else socket.destroy();
  });

  return {
    server,
    figures() {
      const connections = options.table
        .all()
        .reduce((sum, backend) => sum + backend.inflight + backend.upgraded, 0);
      return { ...proxy.figures(), connections };
    },
    listen(port, host) {
      return new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, host, () => {
          server.off("error", reject);
          resolve((server.address() as AddressInfo).port);
        });
      });
    },
    close() {
      return new Promise((resolve) => {
        if (!server.listening) {
          proxy.close();
          resolve();
          return;
        }
        server.close(() => resolve());
        proxy.close();
        server.closeAllConnections();
      });
    },
  };
}
