import { readFileSync } from "node:fs";
import { createServer } from "node:net";

/**
 * Where the OS takes the local ports of outgoing connections from:
 * /proc/sys/net/ipv4/ip_local_port_range on Linux, the IANA range elsewhere.
 */
export function ephemeralRange(): { low: number; high: number } {
  try {
    const range = /^(\d+)\s+(\d+)/.exec(
      readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8"),
    );
    if (range !== null) return { low: Number(range[1]), high: Number(range[2]) };
  } catch {
    // Not Linux: the IANA range below.
  }
  return { low: 49152, high: 65535 };
}

/** The lowest port handed out: above the well-known and most registered services. */
const LOWEST = 20_000;
const TRIES = 50;

/**
 * Ports this process handed out lately: never twice while a child may still
 * be starting on one (it is free until the child listens). Forgotten by the
 * thousand, so that a long-lived supervisor never runs out.
 */
const handedOut = new Set<number>();
const REMEMBERED = 1000;

/** Where the ephemeral range starts, read once. */
let rangeStart: number | undefined;

/** Listens on the loopback `port` (0: one the OS picks) and closes again: the port, or undefined when taken. */
function bindOnce(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once("error", () => resolve(undefined));
    server.listen(port, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" ? address?.port : undefined));
    });
  });
}

/**
 * A loopback TCP port that was free a moment ago, for a child to listen on.
 *
 * Taken below the ephemeral range on purpose. A port the OS picked with
 * listen(0) comes from that range, and so do the local ports of outgoing
 * connections: between the pick and the child's listen (seconds, for an
 * instance that loads its code and connects to Redis first), any connection
 * made on the machine could take it, and the child would fail with
 * EADDRINUSE. Below the range only another listener can, and the pick is
 * random so that two processes picking at once rarely meet.
 */
export async function freePort(): Promise<number> {
  rangeStart ??= Math.min(ephemeralRange().low, 65_536);
  const high = rangeStart;
  if (high - LOWEST >= 1000) {
    for (let i = 0; i < TRIES; i++) {
      const port = LOWEST + Math.floor(Math.random() * (high - LOWEST));
      if (handedOut.has(port) || (await bindOnce(port)) === undefined) continue;
      if (handedOut.size >= REMEMBERED) handedOut.clear();
      handedOut.add(port);
      return port;
    }
  }
  // The fallback, where there is no room below the range: a port the OS picks.
  const port = await bindOnce(0);
  if (port === undefined) throw new Error("the OS gave no port");
  return port;
}
