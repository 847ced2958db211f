import type { RequestHandler } from "express";
import { AppError, ErrorCode } from "../../protocol/index.ts";
import type { RateLimitStore } from "../store/rate-limit-store.ts";

export interface AuthLimits {
  store: RateLimitStore;
  attemptsPerMinute: number;
  failuresBeforeLock: number;
}

function rateLimited(retryInMs: number, what: string): AppError {
  const retryAfter = Math.max(1, Math.ceil(retryInMs / 1000));
  return new AppError(ErrorCode.RateLimited, `${what}; try again in ${retryAfter} s`, {
    retryAfter,
  });
}

/** Login and register attempts per client address, over all instances. */
export function perAddressLimit(limits: AuthLimits): RequestHandler {
  return async (req, _res, next) => {
    const verdict = await limits.store.countAuthAttempt(
      req.ip ?? "unknown",
      limits.attemptsPerMinute,
      60_000,
    );
    if (!verdict.allowed) throw rateLimited(verdict.retryInMs, "too many attempts from here");
    next();
  };
}

/** Throws rate_limited while a username is locked after repeated failures. */
export async function checkNameLock(limits: AuthLimits, username: string): Promise<void> {
  const remaining = await limits.store.authLockRemaining(username);
  if (remaining > 0) throw rateLimited(remaining, "too many failed attempts for this name");
}
