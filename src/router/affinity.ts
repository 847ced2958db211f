import type { IncomingHttpHeaders } from "node:http";
import type { BackendState, BackendTable } from "./backends.ts";
import type { LeastConnections } from "./balancer.ts";
import { AFFINITY_COOKIE, affinitySetCookie, findSetCookie, parseCookieHeader } from "./cookies.ts";

/** Where a request goes, and whether its response must (re)set the affinity cookie. */
export interface Route {
  backend: BackendState;
  /**
   * True when the request asked for an instance it could not have (gone,
   * draining, or refused the connection): its response then sets a new
   * `__VCAP_ID__` even when the instance does not set the session cookie.
   */
  stale: boolean;
}

/**
 * gorouter's rule: a request is sticky only when it carries both the session
 * cookie and `__VCAP_ID__`; it goes to that instance while it is alive and not
 * draining, otherwise to the least loaded live one.
 */
export function chooseRoute(
  headers: IncomingHttpHeaders,
  table: BackendTable,
  balancer: LeastConnections,
  sessionCookieName: string,
  exclude: ReadonlySet<string> = new Set(),
): Route | undefined {
  const cookies = parseCookieHeader(headers.cookie);
  const wanted = cookies.has(sessionCookieName) ? cookies.get(AFFINITY_COOKIE) : undefined;
  if (wanted !== undefined) {
    const sticky = table.get(wanted);
    if (sticky !== undefined && !sticky.draining && !exclude.has(sticky.id)) {
      return { backend: sticky, stale: false };
    }
  }
  const backend = balancer.pick(table.live().filter((b) => !exclude.has(b.id)));
  if (backend === undefined) return undefined;
  return { backend, stale: wanted !== undefined && wanted !== backend.id };
}

/**
 * The `Set-Cookie` headers of a response with the affinity cookie added:
 * when the instance sets the session cookie, or when the request's affinity
 * was stale. An affinity cookie the instance set itself is left alone.
 */
export function withAffinityCookie(
  setCookie: string | string[] | undefined,
  route: Route,
  sessionCookieName: string,
): string[] | undefined {
  const existing =
    setCookie === undefined ? [] : Array.isArray(setCookie) ? setCookie : [setCookie];
  if (findSetCookie(existing, AFFINITY_COOKIE) !== undefined) return undefined;
  const session = findSetCookie(existing, sessionCookieName);
  if (session === undefined && !route.stale) return undefined;
  return [...existing, affinitySetCookie(route.backend.id, session)];
}
