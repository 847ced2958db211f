import type { OutboxEntry, OutboxStorage } from "../core/index.ts";
import { isRecord, readJson, writeJson } from "./local-store.ts";

function isEntry(value: unknown): value is OutboxEntry {
  return (
    isRecord(value) &&
    typeof value.clientId === "string" &&
    typeof value.room === "string" &&
    typeof value.text === "string" &&
    typeof value.createdAt === "number" &&
    (value.status === "sending" || value.status === "failed")
  );
}

/**
 * The outbox in localStorage, one key per user, so that unsent messages
 * survive a reload and are resent with their clientId (the server stores each
 * once). Tabs of the same user share the key: a save keeps the entries other
 * tabs wrote that this tab never saw, instead of overwriting them.
 */
export class LocalOutboxStorage implements OutboxStorage {
  private readonly key: string;
  /** Every clientId this tab has loaded or saved: its own to keep or drop. */
  private readonly known = new Set<string>();

  constructor(user: string) {
    this.key = `switchboard:outbox:${user}`;
  }

  load(): OutboxEntry[] {
    const entries = this.stored();
    for (const entry of entries) this.known.add(entry.clientId);
    return entries;
  }

  save(entries: OutboxEntry[]): void {
    for (const entry of entries) this.known.add(entry.clientId);
    const others = this.stored().filter((entry) => !this.known.has(entry.clientId));
    writeJson(this.key, [...others, ...entries]);
  }

  private stored(): OutboxEntry[] {
    const value = readJson(this.key);
    return Array.isArray(value) ? value.filter(isEntry) : [];
  }
}
