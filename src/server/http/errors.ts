import type { ErrorRequestHandler, RequestHandler } from "express";
import { AppError, ErrorCode, httpStatusOf } from "../../protocol/index.ts";
import type { Logger } from "../logger.ts";
import { isOutOfMemory, storageFull } from "../store/lua-script.ts";

/** Errors raised by body-parser carry a `type`. */
interface BodyParserError {
  type?: unknown;
  status?: unknown;
}

/** Turns anything thrown in a route into `{error:{code,message}}` with a fitting status. */
export function errorHandler(log: Logger, redisReady: () => boolean): ErrorRequestHandler {
  return (error: unknown, req, res, next) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    const appError = toAppError(error, redisReady);
    if (appError.code === ErrorCode.Internal || appError.code === ErrorCode.Unavailable) {
      const requestId: unknown = res.locals.requestId;
      log.error({ err: error, requestId, method: req.method, path: req.path }, "request failed");
    }
    if (appError.retryAfter !== undefined) res.set("Retry-After", String(appError.retryAfter));
    res.status(httpStatusOf[appError.code]).json({ error: appError.toBody() });
  };
}

function toAppError(error: unknown, redisReady: () => boolean): AppError {
  if (error instanceof AppError) return error;
  const type = (error as BodyParserError | null)?.type;
  if (type === "entity.parse.failed") {
    return new AppError(ErrorCode.InvalidInput, "the request body is not valid JSON");
  }
  if (type === "entity.too.large") {
    return new AppError(ErrorCode.PayloadTooLarge, "the request body is too large");
  }
  if (type === "encoding.unsupported" || type === "charset.unsupported") {
    return new AppError(ErrorCode.InvalidInput, "the request body must be UTF-8 JSON");
  }
  if (isOutOfMemory(error)) return storageFull(error);
  if (!redisReady()) {
    return new AppError(ErrorCode.Unavailable, "the service is briefly unavailable; try again", {
      cause: error,
    });
  }
  return new AppError(ErrorCode.Internal, "something went wrong on our side", { cause: error });
}

export const notFound: RequestHandler = (_req, _res, next) => {
  next(new AppError(ErrorCode.NotFound, "no such endpoint"));
};
