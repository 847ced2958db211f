import type { Logger } from "../logger.ts";
import type { ChatServer, ChatSocket } from "./types.ts";

/**
 * Logs each socket's connection and disconnection with its user, socket id
 * and transport (and the reason it ended): who was on this instance, and why
 * they left. The listener is shared by every socket.
 */
export function logSockets(io: ChatServer, log: Logger): void {
  const onDisconnect = function (this: ChatSocket, reason: string) {
    log.info({ user: this.data.user, socket: this.id, reason }, "socket disconnected");
  };
  io.on("connection", (socket) => {
    log.info(
      { user: socket.data.user, socket: socket.id, transport: socket.conn.transport.name },
      "socket connected",
    );
    socket.on("disconnect", onDisconnect);
  });
}
