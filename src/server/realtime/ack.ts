import { AppError, type ErrorBody, ErrorCode } from "../../protocol/index.ts";
import type { Logger } from "../logger.ts";
import { isOutOfMemory, storageFull } from "../store/lua-script.ts";
import type { ChatSocket } from "./types.ts";

/** A listener shared by every socket; Socket.IO calls it with the socket as `this`. */
export type SocketListener = (this: ChatSocket, ...args: unknown[]) => void;

/** The acknowledgement callback, when the client asked for one (it is the last argument). */
export function ackOf(args: unknown[]): ((reply: unknown) => void) | undefined {
  const last = args.at(-1);
  return typeof last === "function" ? (last as (reply: unknown) => void) : undefined;
}

export function errorBody(error: unknown, redisReady: boolean, log: Logger): ErrorBody {
  if (error instanceof AppError) return error.toBody();
  if (isOutOfMemory(error)) return storageFull(error).toBody();
  if (!redisReady) {
    return { code: ErrorCode.Unavailable, message: "storage is unreachable; retry shortly" };
  }
  log.error({ err: error }, "event handler failed");
  return { code: ErrorCode.Internal, message: "something went wrong on our side" };
}

/**
 * A listener that runs an event handler on the first argument and answers its
 * ack with `{ok:true, ...result}` or `{ok:false, error}`. Nothing it throws
 * reaches the event loop. It is made once and shared by every socket, so that
 * an idle connection costs no closures of its own.
 */
export function ackListener<R extends object>(
  event: string,
  run: (socket: ChatSocket, payload: unknown) => Promise<R>,
  deps: { log: Logger; redisReady: () => boolean },
): SocketListener {
  return function (this: ChatSocket, ...args: unknown[]) {
    const ack = ackOf(args);
    const payload = args.length > (ack === undefined ? 0 : 1) ? args[0] : undefined;
    run(this, payload).then(
      (result) => ack?.({ ok: true, ...result }),
      (error: unknown) => {
        const body = errorBody(error, deps.redisReady(), deps.log);
        if (ack === undefined) {
          deps.log.debug({ event, code: body.code, user: this.data.user }, "event refused");
        }
        ack?.({ ok: false, error: body });
      },
    );
  };
}
