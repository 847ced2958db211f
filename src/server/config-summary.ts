import type { Config } from "./config.ts";

/** A Redis URL with its password (and user) replaced, for logs. */
export function redactUrl(raw: string): string {
  try {
    const url = new URL(raw);
    if (url.password !== "" || url.username !== "") {
      url.username = url.username === "" ? "" : "***";
      url.password = "***";
    }
    return url.toString().replace(/\/$/, "");
  } catch {
    return "[unparsable URL]";
  }
}

/**
 * The effective configuration as start-up prints it: every setting, with
 * secrets replaced by whether they are set, and passwords taken out of URLs.
 */
export function configSummary(config: Config): Record<string, unknown> {
  return {
    ...config,
    redisUrl: redactUrl(config.redisUrl),
    redisClusterNodes: config.redisClusterNodes.map(redactUrl),
    sessionSecret: config.sessionSecret === undefined ? "(shared random one in Redis)" : "(set)",
    metricsToken: config.metricsToken === undefined ? "(none: loopback only)" : "(set)",
  };
}
