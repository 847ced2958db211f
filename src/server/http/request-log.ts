import { randomUUID } from "node:crypto";
import type { RequestHandler } from "express";
import type { Logger } from "../logger.ts";

/** A request id from the load balancer is kept when it is a plain token. */
const GIVEN_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Gives every request an id: the load balancer's `X-Request-Id` (HAProxy and
 * nginx in deploy/ set one) or a new one, answered in `X-Request-Id` and
 * kept in `res.locals.requestId` for the error log. Each request is logged
 * when it ends, with its id, status and time: at info for the HTTP API
 * (logins, logouts: few), at debug for the rest (pages, Socket.IO's polls:
 * many). The user is named where the session has one; never a cookie, a
 * body or a query string.
 */
export function requestLog(log: Logger): RequestHandler {
  return (req, res, next) => {
    const given = req.headers["x-request-id"];
    const requestId = typeof given === "string" && GIVEN_ID.test(given) ? given : randomUUID();
    res.locals.requestId = requestId;
    res.set("X-Request-Id", requestId);
    const started = process.hrtime.bigint();
    res.once("finish", () => {
      const api = req.originalUrl.startsWith("/api/");
      const level = api ? "info" : "debug";
      if (!log.isLevelEnabled(level)) return;
      const user = (req as { session?: { user?: { name?: string } } }).session?.user?.name;
      log[level](
        {
          requestId,
          method: req.method,
          // Without the query string (Socket.IO's session id is in it).
          path: req.originalUrl.split("?", 1)[0],
          status: res.statusCode,
          ms: Number(process.hrtime.bigint() - started) / 1e6,
          ...(user === undefined ? {} : { user }),
        },
        "request",
      );
    });
    next();
  };
}
