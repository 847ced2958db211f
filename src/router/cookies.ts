/**
 * Just enough cookie handling for the router: it reads the request's `Cookie`
 * header and the attributes of a session cookie the instance sets, and writes
 * the affinity cookie. Values are never decoded: the router only compares them.
 */

/** The cookie Cloud Foundry's gorouter uses for session affinity. */
export const AFFINITY_COOKIE = "__VCAP_ID__";

/** Cookies of a request, by name; the first one wins when a name repeats (as browsers send the most specific first). */
export function parseCookieHeader(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  if (header === undefined || header === "") return cookies;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (name !== "" && !cookies.has(name)) cookies.set(name, value);
  }
  return cookies;
}

/** The parts of a `Set-Cookie` that the affinity cookie copies. */
export interface SetCookie {
  name: string;
  value: string;
  maxAge: string | undefined;
  expires: string | undefined;
  secure: boolean;
  sameSite: string | undefined;
}

export function parseSetCookie(header: string): SetCookie | undefined {
  const [pair = "", ...attributes] = header.split(";");
  const eq = pair.indexOf("=");
  if (eq <= 0) return undefined;
  const cookie: SetCookie = {
    name: pair.slice(0, eq).trim(),
    value: pair.slice(eq + 1).trim(),
    maxAge: undefined,
    expires: undefined,
    secure: false,
    sameSite: undefined,
  };
  for (const attribute of attributes) {
    const at = attribute.indexOf("=");
    const key = (at === -1 ? attribute : attribute.slice(0, at)).trim().toLowerCase();
    const value = at === -1 ? "" : attribute.slice(at + 1).trim();
    if (key === "max-age") cookie.maxAge = value;
    else if (key === "expires") cookie.expires = value;
    else if (key === "secure") cookie.secure = true;
    else if (key === "samesite") cookie.sameSite = value;
  }
  return cookie;
}

/** The session cookie among a response's `Set-Cookie` headers, if the response sets it. */
export function findSetCookie(
  headers: string | string[] | undefined,
  name: string,
): SetCookie | undefined {
  if (headers === undefined) return undefined;
  for (const header of Array.isArray(headers) ? headers : [headers]) {
    const cookie = parseSetCookie(header);
    if (cookie?.name === name) return cookie;
  }
  return undefined;
}

/**
 * `__VCAP_ID__=<instance>` with the lifetime and `Secure` flag of the session
 * cookie it goes with, so that both expire together (a logout that clears the
 * session cookie clears the affinity too). Without a session cookie to copy
 * (a stale affinity was replaced) it lives as long as the browser session.
 */
export function affinitySetCookie(instanceId: string, session: SetCookie | undefined): string {
  const parts = [`${AFFINITY_COOKIE}=${instanceId}`, "Path=/", "HttpOnly"];
  if (session?.maxAge !== undefined) parts.push(`Max-Age=${session.maxAge}`);
  if (session?.expires !== undefined) parts.push(`Expires=${session.expires}`);
  if (session?.secure === true) parts.push("Secure");
  parts.push(`SameSite=${session?.sameSite ?? "Lax"}`);
  return parts.join("; ");
}
