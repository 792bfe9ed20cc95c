// The phase an operation's workflow reports (its `progress` query), for an instance's view.
// A query waits for a worker to take a workflow task; while an operation runs hot (an eject
// making a replica the source) that took up to 2 s under load, and the GET that waited for
// it answered with a registry read that old: a client asking the API found the new source
// ~1.5 s after the registry named it (issue 17, bench/RESULTS.md "Failover"). The view waits
// a moment for the phase, else shows the one last learnt; the query goes on in the
// background for the next GET, and one query per operation is in flight at a time.

/** How long a view waits for the phase: decoration, never worth holding an answer for. */
export const PHASE_WAIT_MS = 150;
/** Operations remembered (the oldest learnt is forgotten first). */
const REMEMBERED = 1000;

const TIMED_OUT = Symbol('timed out');

export class PhaseCache {
  private readonly known = new Map<string, string>();
  private readonly asking = new Map<string, Promise<string | undefined>>();

  constructor(
    private readonly ask: (operationId: string) => Promise<{ phase: string } | undefined>,
    private readonly waitMs = PHASE_WAIT_MS,
  ) {}

  /** The operation's phase if it answers within the wait, else the last one learnt (undefined: none yet). */
  async phase(operationId: string): Promise<string | undefined> {
    let asked = this.asking.get(operationId);
    if (!asked) {
      asked = this.ask(operationId)
        .then(
          (p) => {
            if (p?.phase) this.remember(operationId, p.phase);
            return p?.phase;
          },
          () => undefined,
        )
        .finally(() => this.asking.delete(operationId));
      this.asking.set(operationId, asked);
    }
    let timer: NodeJS.Timeout | undefined;
    const waited = await Promise.race([asked, new Promise<typeof TIMED_OUT>((resolve) => (timer = setTimeout(() => resolve(TIMED_OUT), this.waitMs)))]);
    clearTimeout(timer);
    return waited === TIMED_OUT || waited === undefined ? this.known.get(operationId) : waited;
  }

  private remember(operationId: string, phase: string): void {
    this.known.delete(operationId);
    this.known.set(operationId, phase);
    if (this.known.size > REMEMBERED) this.known.delete(this.known.keys().next().value!);
  }
}
