/**
 * Every Redis key and channel name that Switchboard uses, built here and
 * nowhere else. The keys of one room share the hash tag `{room:<name>}` so
 * that on Redis Cluster they live in one slot and a Lua script may touch all
 * of them.
 */
export class Keys {
  constructor(readonly prefix: string) {}

  /** Prefix handed to connect-redis; it appends the session id. */
  get sessionPrefix(): string {
    return `${this.prefix}:sess:`;
  }

  session(sessionId: string): string {
    return `${this.sessionPrefix}${sessionId}`;
  }

  /** The development session secret that all instances agree on. */
  get sessionSecret(): string {
    return `${this.prefix}:session-secret`;
  }

  /** Account record, keyed by the lower-cased name so that "Ann" and "ann" are one account. */
  account(username: string): string {
    return `${this.prefix}:user:${username.toLowerCase()}`;
  }

  /** Token bucket of a user's chat messages (all instances). */
  messageBucket(username: string): string {
    return `${this.prefix}:rl:msg:${username.toLowerCase()}`;
  }

  /** Login and register attempts from one address in the current window. */
  authAttempts(ip: string): string {
    return `${this.prefix}:rl:auth-ip:${ip}`;
  }

  /** Failed logins on one username in the last 15 minutes. */
  authFailures(username: string): string {
    return `${this.prefix}:rl:auth-fail:${username.toLowerCase()}`;
  }

  /** Present while a username is locked after repeated failures. */
  authLock(username: string): string {
    return `${this.prefix}:rl:auth-lock:${username.toLowerCase()}`;
  }

  /** Key prefix of the Socket.IO Redis adapter's channels. */
  get adapterPrefix(): string {
    return `${this.prefix}:sio`;
  }

  /** The channel of one room's messages; on Redis Cluster a sharded one, in the slot of the room's keys. */
  roomChannel(room: string): string {
    return `${this.prefix}:{room:${room}}:messages`;
  }

  /**
   * What bounds a key of ours: a TTL, or a cap by design (one per room, per
   * account, per deployment, or trimmed to the history). `undefined` for a
   * key that is not ours, or that nothing bounds: the key budget test fails
   * on it. Keep in step with the key table in docs/protocol.md.
   */
  boundOf(key: string): KeyBound | undefined {
    const p = this.prefix;
    if (key.startsWith(this.sessionPrefix)) return { kind: "ttl", what: "SESSION_TTL_SECONDS" };
    if (key.startsWith(`${p}:rl:`)) return { kind: "ttl", what: "the limit's window" };
    if (key === this.sessionSecret) return { kind: "cap", what: "one per deployment" };
    if (key.startsWith(`${p}:user:`)) return { kind: "cap", what: "one per account" };
    const room = /^\{room:[a-z0-9_-]{1,64}\}:(log|cids|seq|epoch|presence|members|roster)$/.exec(
      key.slice(p.length + 1),
    );
    if (!key.startsWith(`${p}:`) || room === null) return undefined;
    switch (room[1]) {
      case "log":
      case "cids":
        return { kind: "cap", what: "trimmed to about HISTORY_SIZE entries" };
      case "presence":
      case "members":
      case "roster":
        return { kind: "cap", what: "one per room, an entry per member; gone when empty" };
      default:
        return { kind: "cap", what: "one per room" };
    }
  }

  room(room: string): RoomKeys {
    const tag = `${this.prefix}:{room:${room}}`;
    return {
      log: `${tag}:log`,
      seq: `${tag}:seq`,
      epoch: `${tag}:epoch`,
      dedup: `${tag}:cids`,
      presence: `${tag}:presence`,
      members: `${tag}:members`,
      roster: `${tag}:roster`,
    };
  }
}

/** Why a key cannot grow without end: it expires, or its number and size are capped by design. */
export interface KeyBound {
  kind: "ttl" | "cap";
  what: string;
}

export interface RoomKeys {
  /** Capped stream of the room's messages; entry id `<offset>-0`. */
  log: string;
  /** Last offset given out. */
  seq: string;
  /** Current epoch; a new one means the history before it is gone. */
  epoch: string;
  /** Sorted set clientId -> offset of the messages still in `log`, trimmed with it. */
  dedup: string;
  /** Sorted set of `user|instance`, scored by when the entry expires (ms). */
  presence: string;
  /** Hash user -> number of live presence entries. */
  members: string;
  /** Sorted set of the users of `members`, all scored 0, so that they page in name order. */
  roster: string;
}
