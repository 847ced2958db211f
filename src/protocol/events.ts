import type { ErrorBody } from "./errors.ts";

/** A stored chat message. Per room, `offset` rises by exactly 1 per message. */
export interface Message {
  id: string;
  room: string;
  offset: number;
  /** Changes when the room's history is lost (for example Redis lost its data). */
  epoch: string;
  /** Username of the sender, always taken from the sender's session. */
  user: string;
  text: string;
  /** Milliseconds since the Unix epoch, set by the server that stored it. */
  ts: number;
  clientId: string;
}

export interface User {
  name: string;
}

/** Where a client stands in a room: the last offset it has shown, in an epoch. */
export interface StreamPosition {
  epoch: string;
  offset: number;
}

export type Ok<T> = { ok: true } & T;
export type Failed = { ok: false; error: ErrorBody };
export type Result<T> = Ok<T> | Failed;
export type Ack<T> = (result: Result<T>) => void;

export interface JoinRequest {
  room: string;
  since?: StreamPosition;
}

export interface JoinResult {
  room: string;
  epoch: string;
  /** The room's latest offset (0 when it has no messages). */
  offset: number;
  /** In offset order: the latest messages, or those after `since`. */
  messages: Message[];
  /** True when `since` was given and every message after it is in `messages` or follows with `more`. */
  recovered: boolean;
  /** True when a replay was cut at a page; join again with the last offset to go on. */
  more: boolean;
  /**
   * The first members of the room in name order, at most `MEMBERS_PAGE`;
   * `presence:list` pages through the rest. All of them when `memberCount`
   * is not larger.
   */
  members: string[];
  /** How many users are in the room (the joining one included). */
  memberCount: number;
}

/** A page of a room's members in name order: those after `after`, at most `limit`. */
export interface PresenceListRequest {
  room: string;
  after?: string;
  limit: number;
}

export interface PresenceListResult {
  room: string;
  /** How many users are in the room. */
  count: number;
  members: string[];
  /** True when members follow the last one of this page. */
  more: boolean;
}

export interface SendRequest {
  room: string;
  text: string;
  clientId: string;
  /**
   * Where the sender stood in the room (the position it had shown) when it
   * first sent this clientId. With it, a resend from before what the room's
   * history keeps is refused with `resend_expired` instead of being stored
   * again.
   */
  since?: StreamPosition;
}

export interface HistoryRequest {
  room: string;
  /** Messages with an offset below this one. */
  before: number;
  limit: number;
}

/** Protocol 1: one user's join or leave (sent to clients that did not name protocol 2). */
export interface PresenceEvent {
  room: string;
  user: string;
  state: "join" | "leave";
}

/**
 * Protocol 2: the joins and leaves of a room that one instance saw during a
 * short window, at most one frame per instance and window. `count` is the
 * room's size after them. Rooms above the configured size send the count
 * alone, without `joined` and `left`.
 */
export interface PresenceBatch {
  room: string;
  count: number;
  joined?: string[];
  left?: string[];
}

/**
 * Messages of one room that reached an instance together (Redis had them
 * queued for it), in offset order: one frame instead of one per message.
 */
export interface MessageBatch {
  room: string;
  messages: Message[];
}

export interface TypingEvent {
  room: string;
  user: string;
}

/** Limits of the server that a client can check before sending. */
export interface ClientLimits {
  maxMessageLength: number;
}

/**
 * What a client may put in the Socket.IO handshake's `auth`: the rooms to
 * join as the connection opens, each as a `room:join` request (with `since`
 * to catch up). Their replies come in `ready`, which saves the round trip of
 * joining after it: what a crowd of reconnecting clients would otherwise wait for.
 */
export interface HandshakeAuth {
  rooms?: JoinRequest[];
  /** The protocol version the client speaks; 2 (or more) gets `presence:batch`. @default 1 */
  protocol?: number;
}

export interface ReadyEvent {
  user: User;
  instance: string;
  /** The protocol version the server speaks (absent: 1). */
  protocol?: number;
  limits: ClientLimits;
  /**
   * Present when the handshake's `auth` asked for rooms: one `room:join`
   * reply per room, in the order asked, or one error for an `auth` that is
   * malformed or asks for more rooms than a connection may hold.
   */
  rejoin?: Result<{ rooms: Result<JoinResult>[] }>;
}

/** Why the server is ending a socket on purpose. */
export interface ByeEvent {
  reason: "logout" | "expired" | "draining";
}

export interface ClientToServerEvents {
  "room:join": (req: JoinRequest, ack: Ack<JoinResult>) => void;
  "room:leave": (req: { room: string }, ack: Ack<{ room: string }>) => void;
  "message:send": (req: SendRequest, ack: Ack<{ message: Message }>) => void;
  history: (req: HistoryRequest, ack: Ack<{ messages: Message[] }>) => void;
  typing: (req: { room: string }) => void;
  "presence:list": (req: PresenceListRequest, ack: Ack<PresenceListResult>) => void;
}

export interface ServerToClientEvents {
  ready: (ev: ReadyEvent) => void;
  message: (msg: Message) => void;
  messages: (batch: MessageBatch) => void;
  presence: (ev: PresenceEvent) => void;
  "presence:batch": (batch: PresenceBatch) => void;
  typing: (ev: TypingEvent) => void;
  bye: (ev: ByeEvent) => void;
}

/** HTTP API bodies. */
export interface SessionResponse {
  user: User;
  instance: string;
}
/** `GET /api/session?probe=1` when nobody is logged in (200, where the plain request answers 401). */
export interface SessionProbeResponse {
  user: null;
}
export interface AuthResponse {
  user: User;
}
export interface HealthResponse {
  status: "ok";
  instance: string;
  sockets: number;
  /** Messages this instance has stored since it started. */
  messages: number;
  draining: boolean;
  /** "full" while Redis refuses writes at its memory limit (sends get `storage_full`). */
  storage: "ok" | "full";
  /** p99 of the event loop's delay (ms) since the previous reading, at least a second back. */
  eventLoopLagMs: number;
  /** Resident memory of the process (bytes). */
  rssBytes: number;
  /** V8 heap in use (bytes). */
  heapUsedBytes: number;
}
