import {
  AppError,
  ErrorCode,
  JOIN_HISTORY,
  type JoinResult,
  MEMBERS_PAGE,
  type Message,
  REPLAY_PAGE,
  type ReadyEvent,
  type Result,
  type StreamPosition,
} from "../../protocol/index.ts";
import {
  handshakeAuthSchema,
  historySchema,
  joinSchema,
  leaveSchema,
  presenceListSchema,
  sendSchema,
  typingSchema,
} from "../../protocol/schemas.ts";
import type { Logger } from "../logger.ts";
import type { MessageBus } from "../store/bus/message-bus.ts";
import type { MessageStore } from "../store/message-store.ts";
import type { RateLimitStore } from "../store/rate-limit-store.ts";
import { parseInput } from "../validate.ts";
import { ackListener, ackOf, errorBody, type SocketListener } from "./ack.ts";
import type { MessageFanout } from "./message-fanout.ts";
import { legacyPresenceRoom, type PresenceTracker } from "./presence-tracker.ts";
import type { ChatSocket } from "./types.ts";

export interface ChatDeps {
  log: Logger;
  messages: MessageStore;
  presence: PresenceTracker;
  /** Brings the messages of the rooms this instance's sockets are in. */
  bus: Pick<MessageBus, "watch" | "unwatch">;
  /** Learns where a joined room stood, to catch up from after a resubscription. */
  fanout: Pick<MessageFanout, "joined">;
  redisReady: () => boolean;
  rateLimits: RateLimitStore;
  /** Steady messages per second per user; 0 turns the limit off. */
  messageRatePerSecond: number;
  messageBurst: number;
  maxMessageLength: number;
  maxRoomsPerSocket: number;
  /** Shortest interval between two relayed `typing` events of one socket (ms). */
  typingIntervalMs: number;
  /** Counts stored messages for /healthz. */
  onStored: () => void;
}

const KNOWN_EVENTS = new Set([
  "room:join",
  "room:leave",
  "message:send",
  "history",
  "typing",
  "presence:list",
]);

function requireJoined(socket: ChatSocket, room: string): void {
  if (!socket.data.rooms.has(room)) {
    throw new AppError(ErrorCode.NotInRoom, `join the room ${room} first`);
  }
}

function tooManyRooms(max: number): AppError {
  return new AppError(
    ErrorCode.TooManyRooms,
    `at most ${max} rooms per connection; leave one first`,
  );
}

/** The messages a joining client needs: its gap when it can be replayed, else the latest. */
async function catchUp(
  messages: MessageStore,
  room: string,
  since: StreamPosition | undefined,
): Promise<Omit<JoinResult, "members" | "memberCount" | "room">> {
  const result = await messages.catchUp(room, since, REPLAY_PAGE, JOIN_HISTORY);
  // The script reads the offset and the history at once: no message is newer than `offset`.
  return { ...result, more: result.recovered && result.messages.length === REPLAY_PAGE };
}

export interface ChatHandlers {
  /** Wires the chat events to a new socket. */
  wire(socket: ChatSocket): void;
  /** Joins the rooms a handshake's `auth` asks for; `undefined` when it asks for none. Never rejects. */
  rejoin(socket: ChatSocket, auth: unknown): Promise<ReadyEvent["rejoin"]>;
}

/**
 * The chat events. The listeners are made once, here, and shared by every
 * socket (Socket.IO calls them with the socket as `this`): an idle connection
 * then holds no closures of its own, which is most of what it would cost.
 */
export function chatHandlers(deps: ChatDeps): ChatHandlers {
  const { messages, presence } = deps;

  const joinRoom = async (socket: ChatSocket, payload: unknown): Promise<JoinResult> => {
    const { room, since } = parseInput(joinSchema, payload);
    const user = socket.data.user;
    let watched: Promise<unknown> = Promise.resolve();
    let entered: Promise<unknown> = Promise.resolve();
    if (!socket.data.rooms.has(room)) {
      if (socket.data.rooms.size >= deps.maxRoomsPerSocket) {
        throw tooManyRooms(deps.maxRoomsPerSocket);
      }
      // Join before reading history: a message stored meanwhile arrives live
      // or in the reply (or both; the client keeps one per id).
      socket.data.rooms.add(room);
      await socket.join(socket.data.protocol >= 2 ? room : [room, legacyPresenceRoom(room)]);
      watched = deps.bus.watch(room);
      entered = presence.enter(room, user);
    }
    // History and the first page of members are read together; the history
    // waits for the room's channel, the members for this user's own entry,
    // so that the count and the page include the joining user.
    const [state, page] = await Promise.all([
      watched.then(() => catchUp(messages, room, since)),
      entered.then(() => presence.page(room, undefined, MEMBERS_PAGE)),
    ]);
    deps.fanout.joined(room, state.epoch, state.offset);
    return { room, ...state, members: page.members, memberCount: page.count };
  };
  const join = ackListener("room:join", joinRoom, deps);

  const rejoin = async (socket: ChatSocket, auth: unknown): Promise<ReadyEvent["rejoin"]> => {
    const answer = (error: unknown) => ({
      ok: false as const,
      error: errorBody(error, deps.redisReady(), deps.log),
    });
    let rooms: unknown[] | undefined;
    try {
      const parsed = parseInput(handshakeAuthSchema, auth);
      socket.data.protocol = parsed.protocol ?? 1;
      rooms = parsed.rooms;
      if (rooms !== undefined && rooms.length > deps.maxRoomsPerSocket) {
        throw tooManyRooms(deps.maxRoomsPerSocket);
      }
    } catch (error) {
      return answer(error);
    }
    if (rooms === undefined) return undefined;
    const replies = await Promise.all(
      rooms.map((request) =>
        joinRoom(socket, request).then(
          (result): Result<JoinResult> => ({ ok: true, ...result }),
          answer,
        ),
      ),
    );
    return { ok: true, rooms: replies };
  };

  const leave = ackListener(
    "room:leave",
    async (socket, payload) => {
      const { room } = parseInput(leaveSchema, payload);
      if (socket.data.rooms.delete(room)) {
        await Promise.all([socket.leave(room), socket.leave(legacyPresenceRoom(room))]);
        await Promise.all([deps.bus.unwatch(room), presence.exit(room, socket.data.user)]);
      }
      return { room };
    },
    deps,
  );

  const send = ackListener(
    "message:send",
    async (socket, payload): Promise<{ message: Message }> => {
      const input = parseInput(sendSchema, payload);
      requireJoined(socket, input.room);
      if (input.text.trim() === "") throw new AppError(ErrorCode.InvalidInput, "text: empty");
      if (input.text.length > deps.maxMessageLength) {
        throw new AppError(
          ErrorCode.MessageTooLong,
          `messages are at most ${deps.maxMessageLength} characters`,
        );
      }
      const user = socket.data.user;
      if (deps.messageRatePerSecond > 0) {
        const verdict = await deps.rateLimits.takeMessageToken(
          user,
          deps.messageRatePerSecond,
          deps.messageBurst,
        );
        if (!verdict.allowed) {
          throw new AppError(
            ErrorCode.RateLimited,
            `too many messages; wait ${Math.ceil(verdict.retryInMs / 100) / 10} s`,
            { retryAfter: Math.ceil(verdict.retryInMs / 1000) },
          );
        }
      }
      const { message, created } = await messages.append({ ...input, user });
      if (created) deps.onStored();
      return { message };
    },
    deps,
  );

  const history = ackListener(
    "history",
    async (socket, payload) => {
      const { room, before, limit } = parseInput(historySchema, payload);
      requireJoined(socket, room);
      return { messages: await messages.before(room, before, limit) };
    },
    deps,
  );

  const list = ackListener(
    "presence:list",
    async (socket, payload) => {
      const { room, after, limit } = parseInput(presenceListSchema, payload);
      requireJoined(socket, room);
      const page = await presence.page(room, after, limit);
      return { room, count: page.count, members: page.members, more: page.more };
    },
    deps,
  );

  const typing: SocketListener = function (payload) {
    try {
      const { room } = parseInput(typingSchema, payload);
      // In a room too big for names, a typing line would be noise to thousands.
      if (!this.data.rooms.has(room) || presence.countOnly(room)) return;
      const now = Date.now();
      if (now - this.data.lastTypingAt < deps.typingIntervalMs) return;
      this.data.lastTypingAt = now;
      this.to(room).emit("typing", { room, user: this.data.user });
    } catch (error) {
      deps.log.debug({ err: error }, "typing refused");
    }
  };

  const unknown = (event: string, ...args: unknown[]) => {
    if (KNOWN_EVENTS.has(event)) return;
    deps.log.debug({ event: String(event).slice(0, 64) }, "unknown event");
    ackOf(args)?.({
      ok: false,
      error: { code: ErrorCode.UnknownEvent, message: "no such event" },
    });
  };

  const disconnect = function (this: ChatSocket) {
    for (const room of this.data.rooms) {
      Promise.all([deps.bus.unwatch(room), presence.exit(room, this.data.user)]).catch(
        (error: unknown) => {
          deps.log.warn({ err: error }, "leaving a room on disconnect failed");
        },
      );
    }
    this.data.rooms.clear();
  };

  const listeners: [string, SocketListener][] = [
    ["room:join", join],
    ["room:leave", leave],
    ["message:send", send],
    ["history", history],
    ["typing", typing],
    ["presence:list", list],
    ["disconnect", disconnect],
  ];
  return {
    wire(socket) {
      const on = socket as unknown as { on(event: string, listener: SocketListener): void };
      for (const [event, listener] of listeners) on.on(event, listener);
      socket.onAny(unknown);
    },
    rejoin,
  };
}
