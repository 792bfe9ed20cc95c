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

/** urgent: the caller cannot wait for the window (a failover's look): the batch is loaded now, with it. */
export function batched<K, V>(load: (keys: K[]) => Promise<Map<K, V>>, o: BatchOptions): (keys: K[], urgent?: boolean) => Promise<Map<K, V>> {
  let pending: { keys: Set<K>; waiters: { resolve: (m: Map<K, V>) => void; reject: (e: unknown) => void }[]; timer: NodeJS.Timeout } | null = null;
  const flush = () => {
    const batch = pending!;
    pending = null;
    clearTimeout(batch.timer);
    load([...batch.keys]).then(
      (m) => batch.waiters.forEach((w) => w.resolve(m)),
      (e: unknown) => batch.waiters.forEach((w) => w.reject(e)),
    );
  };
  return (keys, urgent = false) =>
    new Promise((resolve, reject) => {
      pending ??= { keys: new Set(), waiters: [], timer: setTimeout(flush, o.windowMs) };
      for (const k of keys) pending.keys.add(k);
      pending.waiters.push({ resolve: (m) => resolve(new Map(keys.filter((k) => m.has(k)).map((k) => [k, m.get(k)!]))), reject });
      if (urgent || pending.keys.size >= o.maxKeys) flush();
    });
}
