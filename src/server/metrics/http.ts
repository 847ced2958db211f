import { timingSafeEqual } from "node:crypto";
import type { RequestHandler } from "express";
import type { Registry } from "prom-client";
import { ErrorCode } from "../../protocol/index.ts";
import type { Metrics } from "./registry.ts";

/** True for 127.0.0.0/8 and ::1, also as IPv4-mapped IPv6 addresses. */
export function isLoopback(address: string | undefined): boolean {
  if (address === undefined) return false;
  const v4 = address.startsWith("::ffff:") ? address.slice(7) : address;
  return v4 === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
}

/** A request that came through a proxy says so; through a local proxy its peer is loopback too. */
function proxied(headers: Record<string, string | string[] | undefined>): boolean {
  return (
    headers["x-forwarded-for"] !== undefined ||
    headers.forwarded !== undefined ||
    headers["x-real-ip"] !== undefined
  );
}

function bearerMatches(header: string | undefined, token: string): boolean {
  if (header === undefined || !header.startsWith("Bearer ")) return false;
  const given = Buffer.from(header.slice(7));
  const wanted = Buffer.from(token);
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}

/**
 * `GET /metrics`: open to requests from this machine that did not come
 * through a proxy (a load balancer on the same host connects from loopback
 * too, but adds X-Forwarded-For), and, when METRICS_TOKEN is set, to any
 * request with `Authorization: Bearer <token>`. Others get 401 unauthorized.
 */
export function metricsHandler(registry: Registry, token: string | undefined): RequestHandler {
  return async (req, res) => {
    const allowed =
      (token !== undefined && bearerMatches(req.headers.authorization, token)) ||
      (isLoopback(req.socket.remoteAddress) && !proxied(req.headers));
    if (!allowed) {
      if (token !== undefined) res.set("WWW-Authenticate", 'Bearer realm="metrics"');
      res.status(401).json({
        error: {
          code: ErrorCode.Unauthorized,
          message: "metrics are served to this machine, or with the METRICS_TOKEN bearer token",
        },
      });
      return;
    }
    res.set("Content-Type", registry.contentType);
    res.set("Cache-Control", "no-store");
    res.end(await registry.metrics());
  };
}

/** Counts the HTTP API's rate-limit refusals (429: login and register attempts). */
export function observeApi(metrics: Metrics): RequestHandler {
  const onFinish = function (this: { statusCode: number }) {
    if (this.statusCode === 429) metrics.rateLimited.inc({ kind: "auth" });
  };
  return (_req, res, next) => {
    res.once("finish", onFinish);
    next();
  };
}
