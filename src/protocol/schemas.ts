import { z } from "zod";
import {
  CLIENT_ID_PATTERN,
  HISTORY_PAGE_MAX,
  MEMBERS_PAGE,
  PASSWORD_MAX,
  PASSWORD_MIN,
  ROOM_PATTERN,
  USERNAME_PATTERN,
} from "./limits.ts";

/**
 * Validation of everything that arrives from a client. Objects are strict:
 * an unknown key is an error, so nothing unexpected rides along into logic.
 */

const room = z.string().regex(ROOM_PATTERN, "room: 1-64 of a-z, 0-9, _ and -");
/** Offsets are Redis integers; above 2^53 they would lose precision in JSON. */
const offset = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

export const credentialsSchema = z.strictObject({
  username: z.string().regex(USERNAME_PATTERN, "username: 3-32 of A-Z, a-z, 0-9, _ and -"),
  password: z
    .string()
    .min(PASSWORD_MIN, `password: at least ${PASSWORD_MIN} characters`)
    .max(PASSWORD_MAX, `password: at most ${PASSWORD_MAX} characters`),
});

export const joinSchema = z.strictObject({
  room,
  since: z.strictObject({ epoch: z.string().min(1).max(64), offset }).optional(),
});

/** The handshake's `auth`; each room is checked as a `room:join` payload of its own. */
export const handshakeAuthSchema = z.strictObject({
  rooms: z.array(z.unknown()).optional(),
  protocol: z.number().int().min(1).max(1000).optional(),
});

export const leaveSchema = z.strictObject({ room });

/**
 * `text` is bounded here only as a guard; the configured MAX_MESSAGE_LENGTH is
 * checked after parsing so that it gets its own code, `message_too_long`.
 */
export const sendSchema = z.strictObject({
  room,
  text: z.string().min(1, "text: empty").max(1_000_000),
  clientId: z.string().regex(CLIENT_ID_PATTERN, "clientId: 1-64 of A-Z, a-z, 0-9, _ and -"),
  /** Where the sender stood in the room when it first sent this clientId (epochs are hex). */
  since: z
    .strictObject({
      epoch: z
        .string()
        .regex(/^[A-Za-z0-9_-]{1,64}$/, "since.epoch: 1-64 of A-Z, a-z, 0-9, _ and -"),
      offset,
    })
    .optional(),
});

export const historySchema = z.strictObject({
  room,
  before: offset,
  limit: z.number().int().min(1).max(HISTORY_PAGE_MAX),
});

export const typingSchema = z.strictObject({ room });

export const presenceListSchema = z.strictObject({
  room,
  /** Usernames are 3-32 characters, but any name orders the page. */
  after: z.string().min(1).max(64).optional(),
  limit: z.number().int().min(1).max(MEMBERS_PAGE),
});

/** A readable one-line account of what was wrong, for the error message. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => {
      const where = issue.path.length > 0 ? `${issue.path.join(".")}: ` : "";
      return issue.message.includes(":") ? issue.message : `${where}${issue.message}`;
    })
    .join("; ");
}
