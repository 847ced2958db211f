import { pino } from "pino";

export type Logger = pino.Logger;

/**
 * JSON logs on stdout. Paths that could carry secrets are censored, as a
 * second line of defence: code never logs bodies, cookies or session ids.
 */
export function createLogger(options: { level: string; instance: string }): Logger {
  return pino({
    level: options.level,
    base: { instance: options.instance },
    redact: {
      paths: [
        "password",
        "*.password",
        "cookie",
        "*.cookie",
        "headers.cookie",
        "*.headers.cookie",
        "sessionId",
        "*.sessionId",
        'headers["set-cookie"]',
      ],
      censor: "[redacted]",
    },
  });
}

const LEVEL_NAMES: Readonly<Record<number, string>> = {
  10: "TRACE",
  20: "DEBUG",
  30: "INFO",
  40: "WARN",
  50: "ERROR",
  60: "FATAL",
};

/** Fields every line has, or that the line's prefix already says. */
const IMPLIED = new Set(["level", "time", "pid", "hostname", "msg", "instance"]);

/** A terminal line stays a line. */
const MAX_PRETTY_LENGTH = 400;

function prettyValue(value: unknown): string {
  if (typeof value === "string") return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  if (typeof value === "object" && value !== null && "message" in value) {
    // An error: its message says what happened; the stack stays in the JSON log.
    const { type, message } = value as { type?: unknown; message?: unknown };
    return JSON.stringify(typeof type === "string" ? `${type}: ${message}` : message);
  }
  return JSON.stringify(value) ?? String(value);
}

/**
 * One JSON log line of an instance as a person reads it in a terminal:
 * `12:04:05 WARN  message key=value ...`. Undefined for a line below
 * `minLevel` (pino's numbers: 40 is warn) or that is not a log line. It
 * shows what the JSON line holds and nothing more: the logger's redaction
 * has already taken secrets out.
 */
export function prettyLogLine(line: string, minLevel = 40): string | undefined {
  let entry: unknown;
  try {
    entry = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof entry !== "object" || entry === null) return undefined;
  const fields = entry as Record<string, unknown>;
  const level = fields.level;
  if (typeof level !== "number" || level < minLevel) return undefined;
  const time = typeof fields.time === "number" ? new Date(fields.time) : new Date();
  const clock = time.toTimeString().slice(0, 8);
  const name = (LEVEL_NAMES[level] ?? String(level)).padEnd(5);
  const rest = Object.entries(fields)
    .filter(([key]) => !IMPLIED.has(key))
    .map(([key, value]) => `${key}=${prettyValue(value)}`);
  const text = [clock, name, String(fields.msg ?? ""), ...rest].join(" ");
  return text.length > MAX_PRETTY_LENGTH ? `${text.slice(0, MAX_PRETTY_LENGTH - 1)}…` : text;
}
