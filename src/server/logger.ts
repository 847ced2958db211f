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
