/** Shapes of names that both ends check; the server is the authority. */
export const USERNAME_PATTERN = /^[A-Za-z0-9_-]{3,32}$/;
export const ROOM_PATTERN = /^[a-z0-9_-]{1,64}$/;
export const CLIENT_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 128;

/** The room every user lands in. */
export const DEFAULT_ROOM = "lobby";
/** How many recent messages a plain `room:join` returns. */
export const JOIN_HISTORY = 50;
/** Largest page of a replay (`room:join` with `since`) or of `history`. */
export const REPLAY_PAGE = 200;
export const HISTORY_PAGE_MAX = 100;
/** Most messages one `messages` event carries. */
export const BATCH_MAX = 100;
/**
 * Members a `room:join` reply names at most (the first page, in name order),
 * and the largest page of `presence:list`: a join's reply stays small however
 * big the room is.
 */
export const MEMBERS_PAGE = 100;

/**
 * The protocol this code speaks. 2: presence comes as `presence:batch` to
 * clients that name version 2 in the handshake (see docs/protocol.md).
 */
export const PROTOCOL_VERSION = 2;
