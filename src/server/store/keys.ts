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

  /** One Redis: the channel that carries every stored message to every instance. */
  get messageChannel(): string {
    return `${this.prefix}:messages`;
  }

  /** Redis Cluster: the sharded channel of one room, in the slot of the room's keys. */
  roomChannel(room: string): string {
    return `${this.prefix}:{room:${room}}:messages`;
  }

  room(room: string): RoomKeys {
    const tag = `${this.prefix}:{room:${room}}`;
    return {
      log: `${tag}:log`,
      seq: `${tag}:seq`,
      epoch: `${tag}:epoch`,
      dedup: (clientId: string) => `${tag}:cid:${clientId}`,
      presence: `${tag}:presence`,
      members: `${tag}:members`,
      roster: `${tag}:roster`,
    };
  }
}

export interface RoomKeys {
  /** Capped stream of the room's messages; entry id `<offset>-0`. */
  log: string;
  /** Last offset given out. */
  seq: string;
  /** Current epoch; a new one means the history before it is gone. */
  epoch: string;
  /** Stored message for a clientId, with a TTL. */
  dedup: (clientId: string) => string;
  /** Sorted set of `user|instance`, scored by when the entry expires (ms). */
  presence: string;
  /** Hash user -> number of live presence entries. */
  members: string;
  /** Sorted set of the users of `members`, all scored 0, so that they page in name order. */
  roster: string;
}
