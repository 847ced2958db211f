import type { Message } from "../../src/protocol/index.ts";

/**
 * What each client showed, per room, checked against what Redis stored. A
 * message counts as lost for a client when the room's history holds it, the
 * client was in the room from before it, and the client never showed it; as
 * duplicated when the client showed the same offset twice in one epoch.
 */
export class ClientLedger {
  /** room -> epoch -> offsets shown, in the order shown */
  private readonly shown = new Map<string, Map<string, number[]>>();
  /** room -> "epoch:offset" -> id of the message shown there */
  private readonly shownIds = new Map<string, Map<string, string>>();
  /** room -> the first offset after which this client must have everything */
  readonly since = new Map<string, number>();
  /** clientIds this client sent (acknowledged or not). */
  readonly sent = new Set<string>();
  /** Disconnect times not yet matched by a reconnect. */
  private downSince: number | undefined;
  /** Milliseconds from losing the connection to being connected and caught up again. */
  readonly reconnects: number[] = [];
  /** Offsets shown out of order (a later offset before an earlier one). */
  outOfOrder = 0;
  /** Times a room's view was replaced after the first load (history not recovered). */
  resets = 0;

  constructor(readonly name: string) {}

  /**
   * A room's view was replaced: the first load of the room, or a reload after
   * `recovered: false`. What it shows again is not shown twice to the person
   * (the list is redrawn); what it skipped stays missing and counts as lost.
   */
  reload(room: string, messages: Message[]): void {
    if (!this.since.has(room)) {
      this.since.set(room, (messages[0]?.offset ?? Number.MAX_SAFE_INTEGER) - 1);
    } else {
      this.resets += 1;
    }
    const epochs = this.shown.get(room);
    const fresh = messages.filter((m) => !(epochs?.get(m.epoch)?.includes(m.offset) ?? false));
    this.show(room, fresh);
  }

  /** An empty room was loaded: everything from its current offset on must arrive. */
  startAt(room: string, offset: number): void {
    if (!this.since.has(room)) this.since.set(room, offset);
  }

  show(room: string, messages: Message[]): void {
    let epochs = this.shown.get(room);
    if (epochs === undefined) {
      epochs = new Map();
      this.shown.set(room, epochs);
    }
    let ids = this.shownIds.get(room);
    if (ids === undefined) {
      ids = new Map();
      this.shownIds.set(room, ids);
    }
    for (const message of messages) {
      ids.set(`${message.epoch}:${message.offset}`, message.id);
      let offsets = epochs.get(message.epoch);
      if (offsets === undefined) {
        offsets = [];
        epochs.set(message.epoch, offsets);
      }
      const last = offsets.at(-1);
      if (last !== undefined && message.offset < last) this.outOfOrder += 1;
      offsets.push(message.offset);
    }
  }

  disconnected(at: number): void {
    this.downSince ??= at;
  }

  caughtUp(at: number): void {
    if (this.downSince === undefined) return;
    this.reconnects.push(at - this.downSince);
    this.downSince = undefined;
  }

  get isDown(): boolean {
    return this.downSince !== undefined;
  }

  /**
   * Lost and duplicated offsets of one room, against the stored history, and
   * messages taken back: shown at an offset where the history (never trimmed
   * in a chaos run) holds another message or none, as when a failover loses
   * a write that a client was already shown.
   */
  check(
    room: string,
    stored: readonly Message[],
  ): { lost: number; duplicates: number; takenBack: number } {
    const storedIds = new Map(stored.map((m) => [`${m.epoch}:${m.offset}`, m.id]));
    let takenBack = 0;
    for (const [key, id] of this.shownIds.get(room) ?? []) {
      if (storedIds.get(key) !== id) takenBack += 1;
    }
    const from = this.since.get(room);
    if (from === undefined) return { lost: 0, duplicates: 0, takenBack };
    const epochs = this.shown.get(room) ?? new Map<string, number[]>();
    let duplicates = 0;
    const seen = new Set<string>();
    for (const [epoch, offsets] of epochs) {
      for (const offset of offsets) {
        const key = `${epoch}:${offset}`;
        if (seen.has(key)) duplicates += 1;
        seen.add(key);
      }
    }
    let lost = 0;
    for (const message of stored) {
      if (message.offset > from && !seen.has(`${message.epoch}:${message.offset}`)) lost += 1;
    }
    return { lost, duplicates, takenBack };
  }
}
