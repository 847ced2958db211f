import type { Message } from "../../../protocol/index.ts";
import { type MessageBus, type MessageListener, RoomWatches } from "./message-bus.ts";

/**
 * An in-process message bus: the instances of one process (as in a test that
 * runs chat logic below process level) share a `MemoryBroker`, the way
 * instances on separate hosts share Redis. Delivery is asynchronous, as over
 * the network, and in publish order.
 */
export class MemoryBroker {
  private readonly listeners = new Map<string, Set<MessageListener>>();

  /** A bus for one instance, delivering to `listener`. */
  bus(listener: MessageListener): MessageBus {
    const watches = new RoomWatches(
      async (room) => {
        let set = this.listeners.get(room);
        if (set === undefined) {
          set = new Set();
          this.listeners.set(room, set);
        }
        set.add(listener);
      },
      async (room) => {
        const set = this.listeners.get(room);
        set?.delete(listener);
        if (set?.size === 0) this.listeners.delete(room);
      },
    );
    return {
      scriptTarget: () => undefined,
      publish: async (message) => this.publish(message),
      watch: (room) => watches.watch(room),
      unwatch: (room) => watches.unwatch(room),
      close: async () => {
        for (const room of watches.clear()) {
          const set = this.listeners.get(room);
          set?.delete(listener);
          if (set?.size === 0) this.listeners.delete(room);
        }
      },
    };
  }

  private publish(message: Message): void {
    const receivers = [...(this.listeners.get(message.room) ?? [])];
    // A copy per receiver, as over the wire: no instance can change another's message.
    const json = JSON.stringify(message);
    queueMicrotask(() => {
      for (const receive of receivers) receive(JSON.parse(json) as Message);
    });
  }
}
