// Serialises driver operations per server (a boot must not race a delete)
// and keeps track of work running after the HTTP answer (202 Accepted), so
// shutdown can wait for it instead of leaving half-done operations behind.
export class OpTracker {
  private readonly locks = new Map<string, Promise<void>>();
  private readonly pending = new Set<Promise<void>>();
  private readonly timers = new Map<string, NodeJS.Timeout>();

  exclusive<T>(serverId: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(serverId) ?? Promise.resolve();
    const run = previous.then(fn);
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    this.locks.set(serverId, tail);
    void tail.then(() => {
      if (this.locks.get(serverId) === tail) this.locks.delete(serverId);
    });
    return run;
  }

  busy(serverId: string): boolean {
    return this.locks.has(serverId);
  }

  /** Runs work in the background; failures go to onError, never unhandled. */
  background(work: Promise<unknown>, onError: (err: unknown) => void): void {
    const tracked = work.then(
      () => undefined,
      (err: unknown) => onError(err),
    );
    this.pending.add(tracked);
    void tracked.then(() => this.pending.delete(tracked));
  }

  /** Delays work for a server; cancellable, e.g. a build waiting for its boot delay. */
  later(serverId: string, delayMs: number, fn: () => void): void {
    this.cancel(serverId);
    const timer = setTimeout(() => {
      this.timers.delete(serverId);
      fn();
    }, delayMs);
    this.timers.set(serverId, timer);
  }

  cancel(serverId: string): void {
    clearTimeout(this.timers.get(serverId));
    this.timers.delete(serverId);
  }

  /** Cancels delayed work and waits for everything already running. */
  async drain(): Promise<void> {
    for (const id of [...this.timers.keys()]) this.cancel(id);
    while (this.pending.size > 0 || this.locks.size > 0) {
      await Promise.all([...this.pending, ...this.locks.values()]);
    }
  }
}
