/**
 * Cookies for Node programs (browsers keep their own): enough of RFC 6265 for
 * one origin, so that the session and the router's affinity cookie travel
 * with every request, as they would in a browser.
 */
export class CookieJar {
  private readonly cookies = new Map<string, string>();

  /** Takes the `Set-Cookie` headers of a response. */
  store(setCookies: string[]): void {
    for (const line of setCookies) {
      const [pair, ...attributes] = line.split(";");
      const eq = pair?.indexOf("=") ?? -1;
      if (pair === undefined || eq <= 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attributes.some((attribute) => {
        const [key, val = ""] = attribute.split("=");
        const k = key?.trim().toLowerCase();
        if (k === "max-age") return Number(val) <= 0;
        if (k === "expires") return Date.parse(val) <= Date.now();
        return false;
      });
      if (expired || value === "") this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  get(name: string): string | undefined {
    return this.cookies.get(name);
  }

  set(name: string, value: string): void {
    this.cookies.set(name, value);
  }

  delete(name: string): void {
    this.cookies.delete(name);
  }

  /**
   * What engine.io-client needs to use this jar as a browser uses its cookie
   * store. The `Cookie` header is read again for every long-polling request
   * and for the WebSocket handshake (a getter), and the `Set-Cookie` headers
   * of every long-polling response are stored (engine.io-client's Node
   * long-polling calls `parseCookies` of its `cookieJar` option). So after
   * a failover the requests of one Socket.IO session carry the affinity that
   * the router set on its first response, and stay on that instance.
   */
  engineOptions(): { extraHeaders: Record<string, string>; cookieJar: EngineCookieJar } {
    const jar = this;
    return {
      extraHeaders: {
        get cookie() {
          return jar.header() ?? "";
        },
      },
      cookieJar: {
        // The Cookie header comes from extraHeaders above.
        addCookies() {},
        parseCookies(values) {
          if (values) jar.store(Array.isArray(values) ? values : [values]);
        },
      },
    };
  }

  /** The `Cookie` request header, or undefined when the jar is empty. */
  header(): string | undefined {
    if (this.cookies.size === 0) return undefined;
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join("; ");
  }
}

/** The part of engine.io-client's Node cookie jar that its long-polling requests use. */
interface EngineCookieJar {
  addCookies(xhr: unknown): void;
  parseCookies(values: string | string[] | null): void;
}
