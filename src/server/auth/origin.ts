import type { IncomingHttpHeaders } from "node:http";
import type { RequestHandler } from "express";
import { AppError, ErrorCode } from "../../protocol/index.ts";

/**
 * Whether a request's Origin may act on this site: the page's own origin (its
 * host, as the client or a proxy in front of us saw it) or one configured in
 * ALLOWED_ORIGINS. A request without Origin is not from a browser page of
 * another site (browsers send Origin with every cross-site POST and
 * WebSocket), so it passes; the opaque origin "null" does not.
 */
export function originAllowed(headers: IncomingHttpHeaders, allowed: readonly string[]): boolean {
  const origin = headers.origin;
  if (origin === undefined) return true;
  if (allowed.includes(origin)) return true;
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    return false;
  }
  const forwarded = headers["x-forwarded-host"];
  return host === headers.host || (typeof forwarded === "string" && host === forwarded);
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** Refuses state-changing requests from other sites (CSRF) with 403 forbidden_origin. */
export function originGuard(allowed: readonly string[]): RequestHandler {
  return (req, _res, next) => {
    if (SAFE_METHODS.has(req.method) || originAllowed(req.headers, allowed)) {
      next();
      return;
    }
    next(new AppError(ErrorCode.ForbiddenOrigin, "requests from another site are not accepted"));
  };
}
