/**
 * What must be stopped if the run is interrupted (Ctrl-C): each owner
 * registers its stop function while it runs and removes it when done.
 */
const pending = new Set<() => unknown>();

export function onInterrupt(stop: () => unknown): () => void {
  pending.add(stop);
  return () => pending.delete(stop);
}

/** Runs every registered stop function, each on its own. */
export async function stopEverything(): Promise<void> {
  const all = [...pending];
  pending.clear();
  await Promise.allSettled(all.map(async (stop) => stop()));
}
