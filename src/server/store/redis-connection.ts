import type { createAdapter, createShardedAdapter } from "@socket.io/redis-adapter";
import type { RedisTarget } from "../config.ts";
import type { PubSubCommands } from "./bus/redis-bus.ts";
import type { SendCommand } from "./lua-script.ts";

/** An adapter constructor, as `new Server({adapter})` takes it. */
export type SocketIoAdapter =
  | ReturnType<typeof createAdapter>
  | ReturnType<typeof createShardedAdapter>;

/**
 * The connections an instance holds, whatever the topology. Each mode
 * (`connections/single.ts`, `sentinel.ts`, `cluster.ts`) makes them its own
 * way; nothing outside `store/` knows which one runs. Commands fail fast
 * while Redis is down (no offline queue) and answer `unavailable`, so that
 * a chat message does not hang; a failover is waited out for a bounded time
 * and retried.
 */
export interface RedisConnections {
  readonly mode: RedisTarget["mode"];
  /** Sends one raw command to the master that holds `firstKey`. */
  send: SendCommand;
  /**
   * Names the connection that commands for `firstKey` go over now, and its
   * session: another after a reconnect or a move to another master;
   * undefined while there is none. A WAIT answers for the writes of its
   * connection's session only.
   */
  connectionMark(firstKey: string): string | undefined;
  /** Pub/sub of the message bus: a channel per room, sharded on a Cluster. */
  pubsub: PubSubCommands;
  /** Each connection by name, for counting its errors and reconnects ("error", "reconnecting"). */
  watched: ReadonlyArray<readonly [string, ConnectionEvents]>;
  /** What connect-redis takes: a client, a Sentinel-managed client or a cluster client. */
  sessionClient: unknown;
  /** The Socket.IO adapter that fits the mode (classic or sharded pub/sub). */
  adapter(prefix: string): SocketIoAdapter;
  /** True whether a replica acknowledges each write of this topology, as far as is known at start. */
  hasReplicas(): Promise<boolean>;
  /** True while this instance reaches a master (on a Cluster: at least one). */
  isReady(): boolean;
  close(): Promise<void>;
}

/** What a connection of any mode tells of its health. */
export interface ConnectionEvents {
  on(event: "error" | "reconnecting", listener: (...args: unknown[]) => void): unknown;
}
