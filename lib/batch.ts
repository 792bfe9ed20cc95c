// Coalesces many callers' lookups into one load: the keys asked within a short window (or up
// to a batch's size) are loaded together and each caller gets its own. The watch uses it so
// that a worker watching a thousand sets reads the registry in a few queries a poll interval,
// not ten per set.

export interface BatchOptions {
  /** How long the first key of a batch waits for others. */
  windowMs: number;
  /** A batch this large is loaded at once. */
  maxKeys: number;
}

export function batched<K, V>(load: (keys: K[]) => Promise<Map<K, V>>, o: BatchOptions): (keys: K[]) => Promise<Map<K, V>> {
  let pending: { keys: Set<K>; waiters: { resolve: (m: Map<K, V>) => void; reject: (e: unknown) => void }[]; timer: NodeJS.Timeout } | null = null;
  const flush = () => {
    const batch = pending!;
    pending = null;
    clearTimeout(batch.timer);
    load([...batch.keys]).then(
      (m) => inSlices(batch.waiters, (w) => w.resolve(m)),
      (e: unknown) => inSlices(batch.waiters, (w) => w.reject(e)),
    );
  };
  return (keys) =>
    new Promise((resolve, reject) => {
      pending ??= { keys: new Set(), waiters: [], timer: setTimeout(flush, o.windowMs) };
      for (const k of keys) pending.keys.add(k);
      pending.waiters.push({ resolve: (m) => resolve(new Map(keys.filter((k) => m.has(k)).map((k) => [k, m.get(k)!]))), reject });
      if (pending.keys.size >= o.maxKeys) flush();
    });
}

/**
 * A batch's callers are answered a slice at a time, the event loop's other work between
 * slices: each caller (a set's poll) goes on to read its members at once, and a thousand of
 * them in one turn held up every other answer, the reads a failover waits on too, for up to a second.
 */
const SLICE = 50;
function inSlices<T>(items: T[], each: (item: T) => void, from = 0): void {
  items.slice(from, from + SLICE).forEach(each);
  if (from + SLICE < items.length) setImmediate(() => inSlices(items, each, from + SLICE));
}
