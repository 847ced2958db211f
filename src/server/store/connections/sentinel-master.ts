import { createClient } from "redis";
import type { Logger } from "../../logger.ts";
import { logErrors, reconnectStrategy } from "./shared.ts";

type RedisClient = ReturnType<typeof createClient>;
export interface NodeAddress {
  host: string;
  port: number;
}

/**
 * A command connection straight to the master the Sentinels name, moved the
 * moment any Sentinel announces `+switch-master`. node-redis's Sentinel
 * client hears no such announcement (it subscribes to the pattern
 * `switch-master`, which never matches `+switch-master`) and, while a
 * Sentinel still flags the new master, looks again only a second later, so
 * it follows a failover one to three seconds after the Sentinels; this
 * connection follows within milliseconds. It is told of the Sentinel
 * client's moves too, in case it missed an announcement.
 */
export class SentinelMaster {
  private client: RedisClient | undefined;
  private address: NodeAddress | undefined;
  private readonly watchers: RedisClient[];
  private readonly followers: ((address: NodeAddress, moved: boolean) => void)[] = [];
  private closed = false;

  constructor(
    sentinels: readonly NodeAddress[],
    private readonly masterName: string,
    private readonly credentials: { username?: string; password?: string },
    private readonly log: Logger,
    /** Told of every move, to let the other connections look again too. */
    private readonly onMove: () => void,
  ) {
    this.watchers = sentinels.map((sentinel) => {
      const watcher = createClient({
        ...credentials,
        name: "switchboard-sentinel-watch",
        socket: { host: sentinel.host, port: sentinel.port, reconnectStrategy },
      });
      logErrors(watcher, "sentinel-watch", log);
      // Queued until connected; node-redis subscribes again after every reconnect.
      watcher
        .subscribe("+switch-master", (message) => this.announced(message))
        .catch(() => {
          // A Sentinel that is down now is retried by the reconnect strategy.
        });
      watcher.connect().catch(() => undefined);
      return watcher;
    });
  }

  /** Calls `follower` with every master this connection moves to (`moved`: not the first). */
  follow(follower: (address: NodeAddress, moved: boolean) => void): void {
    this.followers.push(follower);
  }

  /** The connection to the master, when it is connected; otherwise the caller takes the slow path. */
  get ready(): RedisClient | undefined {
    return this.client?.isReady === true ? this.client : undefined;
  }

  /** "<name> <old-ip> <old-port> <new-ip> <new-port>", as the Sentinels publish it. */
  private announced(message: string): void {
    const [name, , , host, port] = message.split(" ");
    if (name !== this.masterName || host === undefined || port === undefined) return;
    this.moveTo({ host, port: Number(port) });
  }

  /** Connects to `address` unless this connection is there already. */
  moveTo(address: NodeAddress): void {
    if (this.closed) return;
    if (this.address?.host === address.host && this.address.port === address.port) return;
    const moved = this.address !== undefined;
    this.address = address;
    const old = this.client;
    const client = createClient({
      ...this.credentials,
      name: "switchboard-command",
      disableOfflineQueue: true,
      socket: { host: address.host, port: address.port, reconnectStrategy, connectTimeout: 2000 },
    });
    logErrors(client, "command", this.log);
    this.client = client;
    client.connect().catch(() => undefined);
    if (old?.isOpen === true) old.destroy();
    for (const follower of this.followers) follower(address, moved);
    if (moved) {
      this.log.info({ master: address }, "following the new Redis master");
      this.onMove();
    }
  }

  close(): void {
    this.closed = true;
    for (const connection of [this.client, ...this.watchers]) {
      if (connection?.isOpen) connection.destroy();
    }
  }
}

type Listener = (message: string) => void;

/**
 * The message bus's subscriptions, on a connection straight to the master
 * that `SentinelMaster` follows. node-redis's Sentinel client moves its
 * subscriptions late, and under load it was seen retrying the dead master
 * for half a minute while the new one served: every message of that time
 * missed the instance. Here a move opens a connection to the new master,
 * subscribes every held channel there, and only then says the
 * subscriptions are back (the fan-out then reads what it missed).
 */
export class MasterSubscriber {
  private client: RedisClient | undefined;
  private readonly channels = new Map<string, Listener>();
  private readonly resubscribed: (() => void)[] = [];
  private closed = false;

  constructor(
    private readonly credentials: { username?: string; password?: string },
    private readonly log: Logger,
  ) {}

  /** Subscribes on a connection to `address`; a move holds every channel there before it reports. */
  moveTo(address: NodeAddress, moved: boolean): void {
    if (this.closed) return;
    const old = this.client;
    const client = createClient({
      ...this.credentials,
      name: "switchboard-subscriber",
      socket: { host: address.host, port: address.port, reconnectStrategy, connectTimeout: 2000 },
    });
    logErrors(client, "subscriber", this.log);
    this.client = client;
    let readies = 0;
    // A reconnect to the same master: node-redis subscribes again before it says ready.
    client.on("ready", () => {
      readies += 1;
      if (readies > 1 && this.client === client) this.report();
    });
    client.connect().catch(() => undefined);
    if (old?.isOpen === true) old.destroy();
    // Queued until connected; resolved once the new master holds them.
    const held = [...this.channels].map(([channel, listener]) =>
      client.subscribe(channel, listener),
    );
    Promise.all(held).then(
      () => {
        if (moved && this.client === client) this.report();
      },
      (error: unknown) => this.log.warn({ err: error }, "moving the subscriptions failed"),
    );
  }

  subscribe(channel: string, listener: Listener): Promise<unknown> {
    this.channels.set(channel, listener);
    return this.connection().subscribe(channel, listener);
  }

  unsubscribe(channel: string, listener: Listener): Promise<unknown> {
    this.channels.delete(channel);
    return this.connection().unsubscribe(channel, listener);
  }

  isOpen(): boolean {
    return this.client?.isOpen === true;
  }

  onResubscribed(listener: () => void): void {
    this.resubscribed.push(listener);
  }

  close(): void {
    this.closed = true;
    if (this.client?.isOpen === true) this.client.destroy();
  }

  private connection(): RedisClient {
    if (this.client === undefined) throw new Error("the subscriber has no master yet");
    return this.client;
  }

  private report(): void {
    for (const listener of this.resubscribed) listener();
  }
}
