/**
 * In-process nudge from the routes that record events to this process's delivery worker, so a
 * notification leaves right after its transaction commits instead of at the next poll. Keyed by
 * the database handle both sides share; other replicas find the work by polling.
 */
const listeners = new WeakMap<object, Set<() => void>>();

export function onWakeup(key: object, listener: () => void): () => void {
  const set = listeners.get(key) ?? new Set<() => void>();
  listeners.set(key, set);
  set.add(listener);
  return () => set.delete(listener);
}

export function wakeUp(key: object): void {
  for (const listener of listeners.get(key) ?? []) listener();
}
