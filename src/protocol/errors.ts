/**
 * Every error that can reach a user, as a stable code. Clients branch on the
 * code; the message is for people and may change.
 */
export const ErrorCode = {
  InvalidInput: "invalid_input",
  MessageTooLong: "message_too_long",
  Unauthorized: "unauthorized",
  UsernameTaken: "username_taken",
  InvalidCredentials: "invalid_credentials",
  RateLimited: "rate_limited",
  ForbiddenOrigin: "forbidden_origin",
  NotInRoom: "not_in_room",
  TooManyRooms: "too_many_rooms",
  TooManySockets: "too_many_sockets",
  PayloadTooLarge: "payload_too_large",
  UnknownEvent: "unknown_event",
  NotFound: "not_found",
  ResendExpired: "resend_expired",
  StorageFull: "storage_full",
  Unavailable: "unavailable",
  Internal: "internal",
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** The wire shape of an error, in HTTP bodies (`{error}`) and in acks (`{ok:false, error}`). */
export interface ErrorBody {
  code: ErrorCode;
  message: string;
}

/** HTTP status that goes with each code when it is answered over HTTP. */
export const httpStatusOf: Record<ErrorCode, number> = {
  invalid_input: 400,
  message_too_long: 400,
  unauthorized: 401,
  username_taken: 409,
  invalid_credentials: 401,
  rate_limited: 429,
  forbidden_origin: 403,
  not_in_room: 403,
  too_many_rooms: 403,
  too_many_sockets: 403,
  payload_too_large: 413,
  unknown_event: 400,
  not_found: 404,
  resend_expired: 409,
  storage_full: 503,
  unavailable: 503,
  internal: 500,
};

/** An error with a stable code; `cause` keeps the original for logs. */
export class AppError extends Error {
  readonly code: ErrorCode;
  /** Seconds after which a retry may succeed (rate limits). */
  readonly retryAfter: number | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options?: { cause?: unknown; retryAfter?: number },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "AppError";
    this.code = code;
    this.retryAfter = options?.retryAfter;
  }

  toBody(): ErrorBody {
    return { code: this.code, message: this.message };
  }
}
