import { type ServerResponse, STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";

/** Error codes the router answers with; the names match the instance's where they overlap. */
export const RouterErrorCode = {
  Unavailable: "unavailable",
  Forbidden: "forbidden",
  NotFound: "not_found",
  InvalidInput: "invalid_input",
  Internal: "internal",
} as const;

export type RouterErrorCode = (typeof RouterErrorCode)[keyof typeof RouterErrorCode];

export interface RouterErrorBody {
  error: { code: RouterErrorCode; message: string };
}

export function errorBody(code: RouterErrorCode, message: string): string {
  const body: RouterErrorBody = { error: { code, message } };
  return JSON.stringify(body);
}

/** Answers with a JSON error unless a response is already under way, in which case it is cut. */
export function sendError(
  res: ServerResponse,
  status: number,
  code: RouterErrorCode,
  message: string,
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = errorBody(code, message);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(body),
    "cache-control": "no-store",
    ...(status === 503 ? { "retry-after": "1" } : {}),
  });
  res.end(body);
}

/** The same answer written by hand on a socket that asked for an upgrade. */
export function sendSocketError(
  socket: Duplex,
  status: number,
  code: RouterErrorCode,
  message: string,
): void {
  if (socket.destroyed || !socket.writable) {
    socket.destroy();
    return;
  }
  const body = errorBody(code, message);
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? "Error"}\r\n` +
      "Content-Type: application/json; charset=utf-8\r\n" +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      "Connection: close\r\n\r\n" +
      body,
  );
}
