import type { Logger } from "../logger.ts";
import type { SessionStore } from "../store/session-store.ts";
import type { ChatServer } from "./types.ts";

/**
 * Ends sockets whose session expired or was destroyed elsewhere. Logout ends
 * its sockets at once through the adapter; this catches idle expiry and any
 * logout whose broadcast was lost while Redis was away.
 */
export function startSessionWatch(
  io: ChatServer,
  sessions: SessionStore,
  log: Logger,
  intervalMs: number,
): () => void {
  const check = async () => {
    const sockets = [...io.of("/").sockets.values()];
    const ids = [...new Set(sockets.map((socket) => socket.data.sessionId))];
    if (ids.length === 0) return;
    const alive = await sessions.existing(ids);
    for (const socket of sockets) {
      if (alive.has(socket.data.sessionId)) continue;
      socket.emit("bye", { reason: "expired" });
      socket.disconnect(true);
    }
  };
  const timer = setInterval(() => {
    check().catch((error: unknown) => log.warn({ err: error }, "session check failed"));
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
