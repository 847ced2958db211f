import type {
  AuthResponse,
  ErrorBody,
  SessionProbeResponse,
  SessionResponse,
} from "../../protocol/index.ts";
import type { CookieJar } from "./cookie-jar.ts";

/** An HTTP error from the API, with its stable code. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Seconds to wait before trying again (from `Retry-After`), when the server said. */
    readonly retryAfter?: number,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** The JSON API of an instance (or of the router in front of the instances). */
export class HttpApi {
  constructor(
    /** Base URL; "" in a browser page means its own origin. */
    readonly baseUrl: string,
    /** Node programs pass a jar; browsers handle cookies themselves. */
    readonly jar?: CookieJar,
  ) {}

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers["content-type"] = "application/json";
    const cookie = this.jar?.header();
    if (cookie !== undefined) headers.cookie = cookie;
    // Node's fetch sends no Origin; a browser's does. Send the one a browser would.
    if (this.jar !== undefined && method !== "GET") headers.origin = new URL(this.baseUrl).origin;
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers,
      body: body === undefined ? null : JSON.stringify(body),
      credentials: "same-origin",
    });
    this.jar?.store(res.headers.getSetCookie());
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    let json: unknown;
    try {
      json = text === "" ? undefined : JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (!res.ok) {
      const error = (json as { error?: ErrorBody } | undefined)?.error;
      const retryAfter = Number(res.headers.get("retry-after") ?? Number.NaN);
      throw new ApiError(
        res.status,
        error?.code ?? "http_error",
        error?.message ?? `HTTP ${res.status}`,
        Number.isFinite(retryAfter) ? retryAfter : undefined,
      );
    }
    return json as T;
  }

  register(username: string, password: string): Promise<AuthResponse> {
    return this.request("POST", "/api/register", { username, password });
  }

  login(username: string, password: string): Promise<AuthResponse> {
    return this.request("POST", "/api/login", { username, password });
  }

  logout(): Promise<void> {
    return this.request("POST", "/api/logout");
  }

  /**
   * The logged-in user, or undefined when the session is gone. Asks with
   * `?probe=1`, which answers "nobody" with 200 `{user: null}` rather than a
   * 401 that a browser logs as an error; a 401 (a server from before the
   * probe) means the same.
   */
  async session(): Promise<SessionResponse | undefined> {
    try {
      const answer = await this.request<SessionResponse | SessionProbeResponse>(
        "GET",
        "/api/session?probe=1",
      );
      return answer.user === null ? undefined : answer;
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) return undefined;
      throw error;
    }
  }
}
