import type { ConnectionStatus } from "../core/index.ts";

/** "09:05" in the person's own time zone. */
export function clockTime(ts: number): string {
  const date = new Date(ts);
  return `${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

/** A longer form for tooltips: the date and the time to the second. */
export function fullTime(ts: number): string {
  return new Date(ts).toLocaleString();
}

/** True when both times fall on the same calendar day, in the person's own time zone. */
export function sameDay(a: number, b: number): boolean {
  const x = new Date(a);
  const y = new Date(b);
  return (
    x.getFullYear() === y.getFullYear() &&
    x.getMonth() === y.getMonth() &&
    x.getDate() === y.getDate()
  );
}

/** "Today", "Yesterday", or "Monday, 30 November 2026", for the line between days. */
export function dayLabel(ts: number, now = Date.now()): string {
  if (sameDay(ts, now)) return "Today";
  if (sameDay(ts, now - 86_400_000)) return "Yesterday";
  return new Date(ts).toLocaleDateString(undefined, {
    weekday: "long",
    day: "numeric",
    month: "long",
    year: "numeric",
  });
}

function pad(n: number): string {
  return String(n).padStart(2, "0");
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

export type StatusTone = "ok" | "busy" | "bad";

/** What the status line says, and how it is coloured. */
export function describeStatus(
  status: ConnectionStatus,
  waiting: number,
): { text: string; tone: StatusTone } {
  switch (status.state) {
    case "connected":
      return {
        text:
          waiting > 0
            ? `Connected to instance ${status.instance} — sending ${plural(waiting, "message")}`
            : `Connected to instance ${status.instance}`,
        tone: "ok",
      };
    case "reconnecting":
      return {
        text:
          waiting > 0
            ? `Offline — ${plural(waiting, "message")} waiting · reconnecting (attempt ${status.attempt})`
            : `Reconnecting… (attempt ${status.attempt})`,
        tone: "busy",
      };
    case "idle":
    case "connecting":
      return { text: "Connecting…", tone: "busy" };
    case "logged-out":
      return { text: "Logged out", tone: "bad" };
    case "closed":
      return { text: "Disconnected", tone: "bad" };
  }
}

/** "alice is typing…", "alice and bob are typing…", "4 people are typing…" */
export function typingText(users: string[]): string {
  const [first, second] = users;
  if (first === undefined) return "";
  if (second === undefined) return `${first} is typing…`;
  if (users.length === 2) return `${first} and ${second} are typing…`;
  return `${users.length} people are typing…`;
}
