import {
  ClientClosedError,
  ClientOfflineError,
  ConnectionTimeoutError,
  ReconnectStrategyError,
  RootNodesUnavailableError,
  SocketClosedUnexpectedlyError,
  TimeoutError,
} from "redis";
import { AppError, ErrorCode } from "../../protocol/index.ts";

/**
 * Replies of a Redis that is failing over or not reachable: the command did
 * not run, or may have run on a master that is going away. Each is worth a
 * retry once the topology settles.
 */
const TRANSIENT_REPLIES = [
  "CLUSTERDOWN",
  "TRYAGAIN",
  "MASTERDOWN",
  "LOADING",
  "READONLY",
  "NOREPLICAS",
  "BUSY",
];

/** Messages of node-redis and Node errors that mean "no connection to the master now". */
const TRANSIENT_MESSAGES = [
  "None of the sentinels are available",
  "no valid master node",
  "Cannot find node",
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
];

/** True for an error that says Redis is (for now) unreachable rather than that the command is wrong. */
export function isTransientRedisError(error: unknown): boolean {
  if (
    error instanceof ClientOfflineError ||
    error instanceof ClientClosedError ||
    error instanceof SocketClosedUnexpectedlyError ||
    error instanceof ConnectionTimeoutError ||
    error instanceof ReconnectStrategyError ||
    error instanceof RootNodesUnavailableError ||
    error instanceof TimeoutError
  ) {
    return true;
  }
  if (!(error instanceof Error)) return false;
  if (error instanceof AppError) return error.code === ErrorCode.Unavailable;
  const message = error.message;
  return (
    TRANSIENT_REPLIES.some((reply) => message.startsWith(reply)) ||
    TRANSIENT_MESSAGES.some((text) => message.includes(text))
  );
}

/** What a user is told while Redis is unreachable or failing over: retry shortly. */
export function storageUnavailable(cause: unknown): AppError {
  return new AppError(ErrorCode.Unavailable, "storage is unreachable; retry shortly", { cause });
}
