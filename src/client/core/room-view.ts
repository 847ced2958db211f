import type { JoinResult, Message, PresenceListResult } from "../../protocol/index.ts";

/** What applying input to a room did, for whoever renders it. */
export interface RoomChange {
  /** Newly shown messages, in offset order. */
  added: Message[];
  /** True when the view was replaced (history lost or first load): re-render it whole. */
  reset: boolean;
  /** True when a gap was seen and a catch-up from `position` is needed. */
  gap: boolean;
}

/**
 * Who is in a room, as far as the client knows: the names it has loaded (the
 * join's first page, the pages fetched since, and the live joins), and the
 * room's `count`, which covers everyone. In a room bigger than one page the
 * set holds fewer names than `count` until `loadMore()` has fetched the rest.
 */
export class RoomMembers extends Set<string> {
  /** Everyone in the room, loaded or not. */
  count = 0;
  /** The last name of the pages loaded so far (pages continue after it). */
  cursor: string | undefined;
  /** True when every page has been loaded; live joins and leaves keep it up to date. */
  complete = true;
  /** Fetches the next page; set by the client while it is connected. */
  loader: (() => Promise<void>) | undefined;
  private readonly watchers = new Set<() => void>();

  /** Replaces what is known with a join's first page. */
  reset(first: string[], count: number): void {
    this.clear();
    for (const name of first) this.add(name);
    this.count = Math.max(count, first.length);
    this.cursor = first.at(-1);
    this.complete = first.length >= this.count;
    this.changed();
  }

  /** Adds a page fetched with `presence:list`. */
  addPage(page: PresenceListResult): void {
    for (const name of page.members) this.add(name);
    this.count = Math.max(page.count, this.size);
    if (page.members.length > 0) this.cursor = page.members.at(-1);
    this.complete = !page.more;
    this.changed();
  }

  /** Applies joins and leaves; `count` is the room's size when the server said it. */
  apply(joined: readonly string[], left: readonly string[], count?: number): void {
    // The server announces only real joins and leaves, so without a count
    // each one counts, except a join of a name a page showed already.
    for (const name of left) {
      this.delete(name);
      if (count === undefined) this.count -= 1;
    }
    for (const name of joined) {
      if (!this.has(name) && count === undefined) this.count += 1;
      // Names past the cursor would come with a later page; a set holds them once.
      this.add(name);
    }
    // The server's count is the truth; names of a count-only room may be stale.
    this.count = count ?? Math.max(this.count, this.size);
    this.changed();
  }

  /** Fetches the next page, when there is one and the client can; resolves when done. */
  async loadMore(): Promise<void> {
    if (this.complete || this.loader === undefined) return;
    await this.loader();
  }

  /** Calls `listener` whenever the names or the count change; returns the function that stops it. */
  watch(listener: () => void): () => void {
    this.watchers.add(listener);
    return () => this.watchers.delete(listener);
  }

  private changed(): void {
    for (const listener of this.watchers) listener();
  }
}

/**
 * One room as a client shows it: messages in offset order, each once, and the
 * position (epoch, last contiguous offset) to resume from. Messages that run
 * ahead of a gap wait in `pending` until the gap is filled.
 */
export class RoomView {
  epoch = "";
  /** Last offset shown; everything up to it is shown (or was trimmed away). */
  offset = 0;
  messages: Message[] = [];
  readonly members = new RoomMembers();
  /** False until the first `room:join` reply arrived. */
  loaded = false;
  private readonly pending = new Map<number, Message>();

  constructor(
    readonly name: string,
    /** Messages kept in memory per room; older ones are dropped from the view. */
    private readonly keep = 500,
  ) {}

  /**
   * Applies a `room:join` reply. Live messages that came before it (the
   * socket was in the room while the server read the history) are kept when
   * they are of the reply's epoch and newer than what it holds.
   */
  applyJoin(result: JoinResult): RoomChange {
    // Servers before `memberCount` sent every member.
    this.members.reset(result.members, result.memberCount ?? result.members.length);
    if (!this.loaded || !result.recovered || result.epoch !== this.epoch) {
      // Any order will do: feed() orders them, and drops what the reply already holds.
      const early = [...this.pending.values()].filter((message) => message.epoch === result.epoch);
      this.loaded = true;
      this.epoch = result.epoch;
      this.messages = [];
      this.pending.clear();
      const last = result.messages.at(-1);
      // Start just before the first message we were given, then feed them all.
      this.offset =
        result.messages[0] === undefined ? result.offset : result.messages[0].offset - 1;
      const change = this.feed(result.messages);
      if (last === undefined) this.offset = result.offset;
      const live = this.feed(early);
      return { added: [...change.added, ...live.added], reset: true, gap: change.gap || live.gap };
    }
    return this.feed(result.messages);
  }

  /** Applies messages that arrived live or in a replay; before the first reply they only wait. */
  feed(messages: Message[]): RoomChange {
    if (!this.loaded) {
      for (const message of messages) this.pending.set(message.offset, message);
      return { added: [], reset: false, gap: false };
    }
    const added: Message[] = [];
    let epochChanged = false;
    for (const message of messages) {
      if (message.epoch !== this.epoch) {
        // The room's history was lost and restarted: a catch-up will reload it.
        epochChanged = true;
        continue;
      }
      if (message.offset <= this.offset) continue;
      if (message.offset > this.offset + 1) {
        this.pending.set(message.offset, message);
        continue;
      }
      added.push(message);
      this.offset = message.offset;
      for (
        let next = this.pending.get(this.offset + 1);
        next;
        next = this.pending.get(this.offset + 1)
      ) {
        this.pending.delete(next.offset);
        added.push(next);
        this.offset = next.offset;
      }
    }
    if (added.length > 0) {
      this.messages.push(...added);
      if (this.messages.length > this.keep)
        this.messages.splice(0, this.messages.length - this.keep);
    }
    return { added, reset: false, gap: epochChanged || this.pending.size > 0 };
  }

  /** Prepends older messages fetched with `history`. */
  prepend(older: Message[]): Message[] {
    const first = this.messages[0]?.offset ?? this.offset + 1;
    const fresh = older.filter((message) => message.epoch === this.epoch && message.offset < first);
    this.messages.unshift(...fresh);
    return fresh;
  }

  /** True while messages wait behind a missing offset. */
  get hasGap(): boolean {
    return this.pending.size > 0;
  }

  get position(): { epoch: string; offset: number } {
    return { epoch: this.epoch, offset: this.offset };
  }
}
