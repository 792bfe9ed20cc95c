// Follows a long operation by polling GET: the API answers 202 at once and the workflow's
// progress only shows up in the instance view (status + operation.phase).
import { ApiError, UnreachableError, type InstanceView, type TroveApi } from './api-client';

export interface WaitOptions {
  api: TroveApi;
  /** Poll by id, not name: names need not stay unique while we wait. */
  id: string;
  /** 'active': status ACTIVE; a predicate: any other end state (e.g. detached and idle). */
  until: 'active' | 'deleted' | ((v: InstanceView) => boolean);
  intervalMs: number;
  timeoutMs: number;
  /** Progress lines (stderr), so stdout stays clean for --json. */
  log: (line: string) => void;
  /** The view we already have (e.g. the 202 body), reported before the first poll. */
  initial?: InstanceView;
  /** An ERROR that is the expected end, not a failure (an eject leaves the old source fenced in ERROR). */
  endsInError?: (v: InstanceView) => boolean;
  /** Stops the wait early (another replica already failed, so nobody waits for this one). */
  signal?: AbortSignal;
  /** The progress line of a view (default describeState); a new line is logged when it changes. */
  describe?: (v: InstanceView) => string;
}

export type WaitResult = { ok: true; instance?: InstanceView } | { ok: false; message: string };

export function describeState(v: InstanceView): string {
  const phase = (v.operation as { phase?: unknown } | undefined)?.phase;
  return phase ? `${v.status}: ${phase}` : String(v.status);
}

/**
 * True once an operation has come and gone: the instance is ACTIVE and idle after an operation
 * was seen on it, or after its `updated` moved on from `before` (taking and releasing the
 * instance's lock both touch it, so an operation quicker than a poll still counts). ACTIVE and
 * idle before either only means the workflow has not taken its lock yet. Holds state: one per wait.
 */
export function operationCameAndWent(before?: InstanceView): (v: InstanceView) => boolean {
  let seen = false;
  return (v) => {
    if (v.operation) seen = true;
    const moved = before !== undefined && v.updated !== before.updated;
    return (seen || moved) && v.status === 'ACTIVE' && !v.operation;
  };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function waitForInstance(o: WaitOptions): Promise<WaitResult> {
  const deadline = Date.now() + o.timeoutMs;
  let current = o.initial;
  let lastLine = '';
  let lastHiccup = '';
  const describe = o.describe ?? describeState;
  const report = (line: string) => {
    if (line !== lastLine) o.log(line);
    lastLine = line;
  };
  if (current) report(describe(current));

  for (;;) {
    if (current?.status === 'ERROR') {
      if (o.endsInError?.(current)) return { ok: true, instance: current };
      const fault = (current.fault as { message?: string } | undefined)?.message;
      return { ok: false, message: fault ?? `instance ${o.id} went to ERROR` };
    }
    const done = typeof o.until === 'function' ? !!current && o.until(current) : o.until === 'active' && current?.status === 'ACTIVE';
    if (done) return { ok: true, instance: current };

    const remaining = deadline - Date.now();
    if (remaining <= 0) {
      const last = current ? ` (last seen ${describeState(current)})` : '';
      return { ok: false, message: `timed out after ${o.timeoutMs / 1000}s waiting for instance ${o.id}${last}; the operation goes on in the background` };
    }
    await sleep(Math.min(o.intervalMs, remaining));
    if (o.signal?.aborted) return { ok: false, message: `stopped waiting for instance ${o.id}` };

    try {
      current = await o.api.getInstance(o.id);
      lastHiccup = '';
      report(describe(current));
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) {
        if (o.until === 'deleted') return { ok: true };
        return { ok: false, message: `instance ${o.id} no longer exists` };
      }
      // A restarting API or a 5xx mid-wait does not mean the operation failed: keep polling
      // until the deadline, saying so once per distinct hiccup.
      if (err instanceof UnreachableError || (err instanceof ApiError && err.status >= 500)) {
        if (err.message !== lastHiccup) o.log(`(retrying) ${err.message}`);
        lastHiccup = err.message;
        continue;
      }
      throw err;
    }
  }
}
