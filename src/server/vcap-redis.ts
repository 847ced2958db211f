import { z } from "zod";

/**
 * Finds the Redis bound to the app on Cloud Foundry in `VCAP_SERVICES`.
 *
 * Brokers shape their credentials differently: `p.redis` and `p-redis` give
 * `{host, port, password}` (`p.redis` adds `tls_port` when TLS is on),
 * `rediscloud` gives `{hostname, port, password}` (older plans `host`, some a
 * `tls_port`), and a user-provided service usually a `uri`. A service is
 * taken for Redis when one of its tags is `redis`, its label or offering
 * names redis, or its credentials' `uri` has the `redis` or `rediss` scheme.
 * Where the broker offers TLS, it is used.
 */
export type VcapRedis = { ok: true; url: string; service: string } | { ok: false; problem: string };

/** One bound service; every field is optional, and each is read only if it has the right type. */
const serviceSchema = z.object({
  name: z.string().optional().catch(undefined),
  label: z.string().optional().catch(undefined),
  tags: z.array(z.string()).optional().catch(undefined),
  credentials: z.record(z.string(), z.unknown()).optional().catch(undefined),
});

const REDIS_URL = /^rediss?:\/\//i;

function text(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

/** A TCP port given as a number or a string of digits (rediscloud sends "12345"). */
function port(value: unknown): number | undefined {
  const n = typeof value === "string" && /^\d+$/.test(value) ? Number(value) : value;
  return typeof n === "number" && Number.isInteger(n) && n > 0 && n < 65536 ? n : undefined;
}

function looksLikeRedis(key: string, service: z.infer<typeof serviceSchema>): boolean {
  const uri = text(service.credentials?.uri) ?? text(service.credentials?.url);
  return (
    (service.tags ?? []).some((tag) => tag.toLowerCase() === "redis") ||
    key.toLowerCase().includes("redis") ||
    (service.label ?? "").toLowerCase().includes("redis") ||
    (uri !== undefined && REDIS_URL.test(uri))
  );
}

/** The URL a service's credentials stand for, or undefined when they name no server. */
function urlOf(credentials: Record<string, unknown>): string | undefined {
  const uri = text(credentials.uri) ?? text(credentials.url);
  if (uri !== undefined && REDIS_URL.test(uri)) return uri;
  const host = text(credentials.host) ?? text(credentials.hostname);
  if (host === undefined) return undefined;
  const tlsPort = port(credentials.tls_port);
  const plainPort = port(credentials.port) ?? 6379;
  const tls = tlsPort !== undefined || credentials.tls_enabled === true;
  const password = text(credentials.password);
  const username = text(credentials.username);
  const auth =
    password === undefined
      ? ""
      : `${username === undefined ? "" : encodeURIComponent(username)}:${encodeURIComponent(password)}@`;
  const hostPart = host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
  return `${tls ? "rediss" : "redis"}://${auth}${hostPart}:${tlsPort ?? plainPort}`;
}

/**
 * The first Redis service in `VCAP_SERVICES`, as a URL; undefined when the
 * variable is unset (not on Cloud Foundry). Problems are reported, never
 * thrown: the caller turns them into a configuration error.
 */
export function redisFromVcap(raw: string | undefined): VcapRedis | undefined {
  if (raw === undefined || raw.trim() === "") return undefined;
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return { ok: false, problem: "VCAP_SERVICES is not valid JSON" };
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    return { ok: false, problem: "VCAP_SERVICES must be a JSON object of service lists" };
  }
  const unusable: string[] = [];
  for (const [key, list] of Object.entries(json)) {
    if (!Array.isArray(list)) continue;
    for (const entry of list) {
      const parsed = serviceSchema.safeParse(entry);
      if (!parsed.success) continue;
      const service = parsed.data;
      if (!looksLikeRedis(key, service)) continue;
      const name = service.name ?? key;
      const url = service.credentials === undefined ? undefined : urlOf(service.credentials);
      if (url !== undefined) return { ok: true, url, service: name };
      unusable.push(name);
    }
  }
  return {
    ok: false,
    problem:
      unusable.length > 0
        ? `VCAP_SERVICES: the Redis service ${unusable.join(", ")} has no host or redis:// uri in its credentials`
        : "VCAP_SERVICES names no Redis service: bind one (cf bind-service) or set REDIS_URL",
  };
}
