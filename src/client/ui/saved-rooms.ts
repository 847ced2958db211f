import { DEFAULT_ROOM, ROOM_PATTERN } from "../../protocol/index.ts";
import { isRecord, readJson, writeJson } from "./local-store.ts";

export interface SavedRooms {
  /** Rooms joined, in the order they were joined; always starts with the lobby. */
  rooms: string[];
  /** The room on screen. */
  current: string;
}

function key(user: string): string {
  return `switchboard:rooms:${user}`;
}

/** The rooms a user had open, so that a reload brings them back. */
export function loadRooms(user: string): SavedRooms {
  const value = readJson(key(user));
  const stored =
    isRecord(value) && Array.isArray(value.rooms)
      ? value.rooms.filter((room): room is string => typeof room === "string")
      : [];
  const rooms = [
    DEFAULT_ROOM,
    ...stored.filter((room) => room !== DEFAULT_ROOM && ROOM_PATTERN.test(room)),
  ];
  const current =
    isRecord(value) && typeof value.current === "string" && rooms.includes(value.current)
      ? value.current
      : DEFAULT_ROOM;
  return { rooms: [...new Set(rooms)], current };
}

export function saveRooms(user: string, saved: SavedRooms): void {
  writeJson(key(user), saved);
}
