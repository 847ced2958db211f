import { AppError, type ErrorBody, ErrorCode } from "../../protocol/index.ts";
import type { Logger } from "../logger.ts";
import type { ChatSocket } from "./types.ts";

type Listener = (...args: unknown[]) => void;

/** Socket.IO's typed `on` assumes well-formed payloads; ours are checked, so they come in as unknown. */
export function onUnknown(socket: ChatSocket, event: string, listener: Listener): void {
  (socket as unknown as { on(event: string, listener: Listener): void }).on(event, listener);
}

/** The acknowledgement callback, when the client asked for one (it is the last argument). */
export function ackOf(args: unknown[]): ((reply: unknown) => void) | undefined {
  const last = args.at(-1);
  return typeof last === "function" ? (last as (reply: unknown) => void) : undefined;
}

export function errorBody(error: unknown, redisReady: boolean, log: Logger): ErrorBody {
  if (error instanceof AppError) return error.toBody();
  if (!redisReady) {
    return { code: ErrorCode.Unavailable, message: "storage is unreachable; retry shortly" };
  }
  log.error({ err: error }, "event handler failed");
  return { code: ErrorCode.Internal, message: "something went wrong on our side" };
}

/**
 * Runs an event handler on the first argument and answers its ack with
 * `{ok:true, ...result}` or `{ok:false, error}`. Nothing it throws reaches the
 * event loop.
 */
export function handleWithAck<R extends object>(
  socket: ChatSocket,
  event: string,
  run: (payload: unknown) => Promise<R>,
  deps: { log: Logger; redisReady: () => boolean },
): void {
  onUnknown(socket, event, (...args) => {
    const ack = ackOf(args);
    const payload = args.length > (ack === undefined ? 0 : 1) ? args[0] : undefined;
    run(payload).then(
      (result) => ack?.({ ok: true, ...result }),
      (error: unknown) => {
        const body = errorBody(error, deps.redisReady(), deps.log);
        if (ack === undefined) deps.log.debug({ event, code: body.code }, "event refused");
        ack?.({ ok: false, error: body });
      },
    );
  });
}
