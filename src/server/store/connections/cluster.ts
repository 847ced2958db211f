import { createShardedAdapter } from "@socket.io/redis-adapter";
import calculateSlot from "cluster-key-slot";
import { createCluster } from "redis";
import type { Logger } from "../../logger.ts";
import type { RedisConnections } from "../redis-connection.ts";
import { ConnectionMarks, closeAll, logErrors, reconnectStrategy, retrying } from "./shared.ts";

type RedisCluster = ReturnType<typeof createCluster>;
/** What the sharded Socket.IO adapter subscribes with (buffers). */
type ShardedListener = Parameters<RedisCluster["sSubscribe"]>[1];
/** What the message bus subscribes with (strings). */
type StringListener = (message: string) => void;
type Subscription =
  | { buffers: true; listener: ShardedListener }
  | { buffers: false; listener: StringListener };

/** How long a command keeps trying through a failover before it answers `unavailable`. */
const COMMAND_BUDGET_MS = 2000;
/** How often the topology is read again while a master is unreachable. */
const HEAL_INTERVAL_MS = 500;

/**
 * A Redis Cluster. node-redis follows MOVED and ASK, but when a master dies
 * nobody answers MOVED: its connection only tries to reconnect to the dead
 * address, commands for its slots fail with ClientOfflineError for ever, and
 * when the slot map is finally read again the connection that held the
 * sharded subscriptions on that master is destroyed, not moved. So this
 * mode (1) reads the slot map again, every `HEAL_INTERVAL_MS` while a master
 * fails to answer, until every master answers, (2) keeps its own record of
 * the sharded subscriptions (the message bus's and the Socket.IO adapter's)
 * and makes again those that no master holds any more, and (3) retries
 * commands that failed for want of a master for `COMMAND_BUDGET_MS`.
 */
export async function connectCluster(
  nodes: readonly string[],
  log: Logger,
): Promise<RedisConnections> {
  const make = (name: string, failFast: boolean): RedisCluster => {
    const cluster = createCluster({
      rootNodes: nodes.map((url) => ({ url })),
      defaults: {
        name: `switchboard-${name}`,
        disableOfflineQueue: failFast,
        socket: { reconnectStrategy, connectTimeout: 2000 },
      },
    });
    logErrors(cluster, name, log);
    cluster.on("node-error", () => heal());
    return cluster;
  };

  const command = make("command", true);
  const subscriber = make("subscriber", false);
  const adapterPublisher = make("adapter-pub", false);
  const clusters = [command, subscriber, adapterPublisher];
  await Promise.all(clusters.map((cluster) => cluster.connect()));
  const subscriptions = new ShardedSubscriptions(subscriber);

  let healing: Promise<void> | undefined;
  let closed = false;
  let reachable = true;
  /** Reads the slot maps again until every master answers; subscriptions follow. */
  const heal = (): void => {
    if (closed || healing !== undefined) return;
    healing = (async () => {
      for (;;) {
        await Promise.all(clusters.map((cluster) => rediscover(cluster)));
        await subscriptions.restore(log);
        const answers = await pingMasters(command);
        reachable = answers.some(Boolean);
        if (closed || answers.every(Boolean)) return;
        await new Promise((resolve) => setTimeout(resolve, HEAL_INTERVAL_MS));
      }
    })()
      .catch((error: unknown) => log.warn({ err: error }, "refreshing the cluster topology failed"))
      .finally(() => {
        healing = undefined;
      });
  };
  // Besides errors, look at the masters every few seconds: a failover without errors here
  // (a master that was idle for this instance) must still move the subscriptions.
  const probe = setInterval(() => {
    pingMasters(command).then((answers) => {
      reachable = answers.some(Boolean);
      if (!answers.every(Boolean)) heal();
    }, heal);
  }, 2000);
  probe.unref();

  const send = <T>(args: string[], firstKey?: string): Promise<T> =>
    retrying(
      () => command.sendCommand(firstKey, false, args) as Promise<T>,
      COMMAND_BUDGET_MS,
      heal,
    );
  const marks = new ConnectionMarks();
  return {
    mode: "cluster",
    send,
    connectionMark: (firstKey) => marks.of(command.slots[calculateSlot(firstKey)]?.master.client),
    pubsub: {
      publishCommand: "SPUBLISH",
      publish: (channel, json) => send(["SPUBLISH", channel, json], channel),
      subscribe: (channel, listener) =>
        subscriptions.subscribe(channel, { buffers: false, listener }),
      unsubscribe: (channel, listener) => subscriptions.unsubscribe(channel, listener),
      isOpen: () => subscriber.isOpen,
      onResubscribed: (listener) => subscriptions.onRestored(listener),
    },
    watched: [
      ["command", command],
      ["subscriber", subscriber],
      ["adapter-pub", adapterPublisher],
    ],
    sessionClient: command,
    adapter: (prefix) =>
      createShardedAdapter(
        adapterPublisher,
        {
          sSubscribe: (channel: string, listener: ShardedListener) =>
            subscriptions.subscribe(channel, { buffers: true, listener }),
          sUnsubscribe: (channel: string) => subscriptions.unsubscribe(channel),
        },
        { channelPrefix: prefix },
      ),
    hasReplicas: async () => {
      const slots = await send<[number, number, ...unknown[]][]>(["CLUSTER", "SLOTS"]);
      // Each range: [from, to, master, ...replicas]; every master needs one.
      return slots.length > 0 && slots.every((range) => range.length > 3);
    },
    isReady: () => reachable && command.isOpen && subscriber.isOpen,
    close: async () => {
      closed = true;
      clearInterval(probe);
      await healing;
      await closeAll([subscriber, adapterPublisher, command]);
    },
  };
}

/** Reads the slot map again, starting from a master that answers. */
async function rediscover(cluster: RedisCluster): Promise<void> {
  const start =
    cluster.masters.find((master) => master.client?.isReady === true)?.client ??
    cluster.masters.find((master) => master.client !== undefined)?.client;
  if (start !== undefined) await cluster._slots.rediscover(start);
}

/** Whether each master the slot map names answers a PING within a second. */
async function pingMasters(cluster: RedisCluster): Promise<boolean[]> {
  return Promise.all(
    cluster.masters.map(async (master) => {
      const client = master.client;
      if (client === undefined || !client.isReady) return false;
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), 1000);
      });
      try {
        return await Promise.race([client.ping().then(() => true), late]);
      } catch {
        return false;
      } finally {
        clearTimeout(timer);
      }
    }),
  );
}

/**
 * The sharded subscriptions of this instance, kept here because node-redis
 * drops those of a master that leaves the slot map. After each reading of the
 * slot map, a channel that no master's connection listens on any more is
 * subscribed again, on its slot's new master.
 */
class ShardedSubscriptions {
  private readonly channels = new Map<
    string,
    Map<ShardedListener | StringListener, Subscription>
  >();

  private readonly restored: ((channels: readonly string[]) => void)[] = [];

  constructor(private readonly cluster: RedisCluster) {}

  /** Calls `listener` with the channels subscribed again after a master was lost. */
  onRestored(listener: (channels: readonly string[]) => void): void {
    this.restored.push(listener);
  }

  async subscribe(channel: string, subscription: Subscription): Promise<void> {
    let listeners = this.channels.get(channel);
    if (listeners === undefined) {
      listeners = new Map();
      this.channels.set(channel, listeners);
    }
    listeners.set(subscription.listener, subscription);
    await this.send(channel, subscription);
  }

  private send(channel: string, subscription: Subscription): Promise<void> {
    return subscription.buffers
      ? this.cluster.sSubscribe(channel, subscription.listener, true)
      : this.cluster.sSubscribe<false>(channel, subscription.listener, false);
  }

  async unsubscribe(channel: string, listener?: StringListener): Promise<void> {
    const listeners = this.channels.get(channel);
    if (listener === undefined) this.channels.delete(channel);
    else {
      listeners?.delete(listener);
      if (listeners?.size === 0) this.channels.delete(channel);
    }
    if (!this.cluster.isOpen) return;
    await (listener === undefined
      ? this.cluster.sUnsubscribe(channel)
      : this.cluster.sUnsubscribe<false>(channel, listener, false));
  }

  /** Subscribes again every channel that no master's pub/sub connection holds. */
  async restore(log: Logger): Promise<void> {
    const held = new Set<string>();
    for (const master of this.cluster.masters) {
      const client = master.pubSub?.client;
      if (client === undefined) continue;
      for (const channel of client.getPubSubListeners("SHARDED").keys()) held.add(channel);
    }
    const lost = [...this.channels].filter(([channel]) => !held.has(channel));
    if (lost.length === 0) return;
    log.info({ channels: lost.length }, "subscribing again to channels of a failed master");
    const done = await Promise.all(
      lost.flatMap(([channel, listeners]) =>
        [...listeners.values()].map((subscription) =>
          this.send(channel, subscription).then(
            () => channel,
            (error: unknown) => {
              log.warn({ err: error, channel }, "subscribing again failed; will retry");
              return undefined;
            },
          ),
        ),
      ),
    );
    const channels = [...new Set(done.filter((channel) => channel !== undefined))];
    if (channels.length === 0) return;
    for (const listener of this.restored) listener(channels);
  }
}
