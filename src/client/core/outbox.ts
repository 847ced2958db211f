import { type ErrorBody, ErrorCode, type StreamPosition } from "../../protocol/index.ts";

/** A message typed but not yet acknowledged by the server, or refused by it. */
export interface OutboxEntry {
  clientId: string;
  room: string;
  text: string;
  createdAt: number;
  status: "sending" | "failed";
  error?: ErrorBody;
  /**
   * Where the room stood (as shown) when the entry was first transmitted; it
   * goes with every resend, so that the server can tell a resend whose
   * message has left the room's history (`resend_expired`) from a new one.
   */
  since?: StreamPosition;
}

/** Where an outbox survives a page reload: localStorage in a browser, memory elsewhere. */
export interface OutboxStorage {
  load(): OutboxEntry[];
  save(entries: OutboxEntry[]): void;
}

export class MemoryStorage implements OutboxStorage {
  private entries: OutboxEntry[] = [];
  load(): OutboxEntry[] {
    return this.entries.map((entry) => ({ ...entry }));
  }
  save(entries: OutboxEntry[]): void {
    this.entries = entries.map((entry) => ({ ...entry }));
  }
}

/** Codes after which resending cannot help: the message is shown as failed. */
const FINAL_CODES: ReadonlySet<ErrorCode> = new Set([
  ErrorCode.InvalidInput,
  ErrorCode.MessageTooLong,
  ErrorCode.NotInRoom,
  ErrorCode.TooManyRooms,
  ErrorCode.PayloadTooLarge,
  ErrorCode.UnknownEvent,
  // Sent long ago (the room's history has moved past it since): it may have
  // been stored, and the server cannot tell any more. Shown as failed, for
  // the user to check the room and send it again if it is missing.
  ErrorCode.ResendExpired,
]);

export function isFinalRefusal(error: ErrorBody): boolean {
  return FINAL_CODES.has(error.code);
}

/** Unacknowledged sends in the order they were typed, persisted on every change. */
export class Outbox {
  private entries: OutboxEntry[];

  constructor(private readonly storage: OutboxStorage) {
    this.entries = storage.load();
  }

  add(entry: OutboxEntry): void {
    this.entries.push(entry);
    this.storage.save(this.entries);
  }

  remove(clientId: string): void {
    const before = this.entries.length;
    this.entries = this.entries.filter((entry) => entry.clientId !== clientId);
    if (this.entries.length !== before) this.storage.save(this.entries);
  }

  fail(clientId: string, error: ErrorBody): void {
    const entry = this.entries.find((e) => e.clientId === clientId);
    if (entry === undefined) return;
    entry.status = "failed";
    entry.error = error;
    this.storage.save(this.entries);
  }

  /** Records where the room stood when the entry was first transmitted. */
  setSince(clientId: string, since: StreamPosition): void {
    const entry = this.entries.find((e) => e.clientId === clientId);
    if (entry === undefined || entry.since !== undefined) return;
    entry.since = since;
    this.storage.save(this.entries);
  }

  get(clientId: string): OutboxEntry | undefined {
    return this.entries.find((entry) => entry.clientId === clientId);
  }

  /** Entries still to be sent, oldest first. */
  sending(): OutboxEntry[] {
    return this.entries.filter((entry) => entry.status === "sending");
  }

  all(): OutboxEntry[] {
    return [...this.entries];
  }
}
