type AnyListener = (...args: unknown[]) => void;

/** A small typed event emitter that runs in browsers and in Node. */
export class Emitter<Events extends { [K in keyof Events]: unknown[] }> {
  private readonly listeners = new Map<keyof Events, Set<AnyListener>>();

  on<K extends keyof Events>(event: K, listener: (...args: Events[K]) => void): () => void {
    let set = this.listeners.get(event);
    if (set === undefined) {
      set = new Set();
      this.listeners.set(event, set);
    }
    const stored = listener as unknown as AnyListener;
    set.add(stored);
    return () => set.delete(stored);
  }

  protected emit<K extends keyof Events>(event: K, ...args: Events[K]): void {
    for (const listener of this.listeners.get(event) ?? []) listener(...args);
  }
}

/** An emitter's `emit`, handed to the parts of a class that speak through its events. */
export type Emit<Events extends { [K in keyof Events]: unknown[] }> = <K extends keyof Events>(
  event: K,
  ...args: Events[K]
) => void;
