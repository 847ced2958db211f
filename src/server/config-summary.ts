import type { Config, RedisTarget } from "./config.ts";

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
function redactTarget(target: RedisTarget): RedisTarget {
  switch (target.mode) {
    case "single":
      return { ...target, url: redactUrl(target.url) };
    case "sentinel":
      return { ...target, sentinels: target.sentinels.map(redactUrl) };
    case "cluster":
      return { ...target, nodes: target.nodes.map(redactUrl) };
  }
}

export function configSummary(config: Config): Record<string, unknown> {
  return {
    ...config,
    redis: redactTarget(config.redis),
    redisUrl: redactUrl(config.redisUrl),
    redisClusterNodes: config.redisClusterNodes.map(redactUrl),
    redisSentinels: config.redisSentinels.map(redactUrl),
    sessionSecret: config.sessionSecret === undefined ? "(shared random one in Redis)" : "(set)",
    metricsToken: config.metricsToken === undefined ? "(none: loopback only)" : "(set)",
  };
}
