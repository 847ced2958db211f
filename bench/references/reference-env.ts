/**
 * What the supervisor hands every instance, read the way a small app reads
 * it: the references honour the same variables as a Switchboard instance so
 * that `INSTANCE_ENTRY` can swap them in behind the same supervisor and router.
 */
export interface ReferenceEnv {
  port: number;
  host: string | undefined;
  redisUrl: string;
  instanceId: string;
  sessionSecret: string;
  sessionCookieName: string;
  sessionTtlSeconds: number;
}

export function readReferenceEnv(prefix: string): ReferenceEnv {
  const env = process.env;
  return {
    port: Number(env.PORT ?? 3000),
    host: env.HOST === undefined || env.HOST === "" ? undefined : env.HOST,
    redisUrl:
      env.REDIS_URL === undefined || env.REDIS_URL === ""
        ? "redis://127.0.0.1:6379"
        : env.REDIS_URL,
    instanceId: env.INSTANCE_ID ?? `${prefix}-${process.pid}`,
    sessionSecret: env.SESSION_SECRET ?? `${prefix}-development-secret`,
    sessionCookieName: env.SESSION_COOKIE_NAME ?? "JSESSIONID",
    sessionTtlSeconds: 7 * 24 * 60 * 60,
  };
}

/** The JSON error shape of the Switchboard API, so that `HttpApi` reads the references' errors. */
export function errorBody(
  code: string,
  message: string,
): { error: { code: string; message: string } } {
  return { error: { code, message } };
}

/** A name as a typical app checks it: 3-32 of A-Z, a-z, 0-9, _ and -. */
export const NAME_PATTERN = /^[A-Za-z0-9_-]{3,32}$/;
export const ROOM_PATTERN = /^[a-z0-9_-]{1,64}$/;
