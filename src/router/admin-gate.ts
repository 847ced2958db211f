import type { IncomingMessage } from "node:http";

/** True for 127.0.0.0/8 and ::1, in IPv4 or IPv4-mapped IPv6 form. */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (address === undefined) return false;
  const v4 = address.startsWith("::ffff:") ? address.slice(7) : address;
  return v4.startsWith("127.") || address === "::1";
}

const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

function hostnameOf(host: string): string {
  if (host.startsWith("[")) return host.slice(0, host.indexOf("]") + 1).toLowerCase();
  const colon = host.indexOf(":");
  return (colon === -1 ? host : host.slice(0, colon)).toLowerCase();
}

/**
 * Why an admin request is refused, or undefined when it may pass. The socket's
 * peer must be loopback (headers such as X-Forwarded-For are not trusted), the
 * Host must be a loopback name (so that a DNS-rebinding page cannot reach the
 * API through the user's browser), and a browser's Origin, when sent, must be
 * the router's own (so that another site cannot POST a kill).
 */
export function adminRefusal(req: IncomingMessage): string | undefined {
  if (!isLoopbackAddress(req.socket.remoteAddress)) {
    return "the cluster admin API only answers on loopback (127.0.0.1 or ::1)";
  }
  const host = req.headers.host ?? "";
  if (!LOOPBACK_HOSTS.has(hostnameOf(host))) {
    return "the cluster admin API only answers to Host localhost, 127.0.0.1 or [::1]";
  }
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== `http://${host}` && origin !== `https://${host}`) {
    return "cross-origin requests to the cluster admin API are refused";
  }
  return undefined;
}
