// The presence beat's thread (workers/presence.ts): marks the worker present every everyMs on
// a session holding its lock, while the main thread pings it.
import { parentPort, workerData } from 'node:worker_threads';
import { createRegistryPool } from '../registry/db';
import { WatchClaimStore } from '../registry/watch-claims';
import type { PresenceBeat, PresenceThreadData, ToPresenceThread } from './presence';

const { workerId, connection, everyMs, stallMs } = workerData as PresenceThreadData;
// Two: the lock's session, and the first beat's clean-up of long-gone workers.
const pool = createRegistryPool(connection, { connectionLimit: 2 });
const store = new WatchClaimStore(pool);
let pingedAt = Date.now();
let first = true;
let leaving = false;
let timer: NodeJS.Timeout | undefined;
let beating: Promise<void> = Promise.resolve();

const report = (beat: Omit<PresenceBeat, 'kind' | 'at' | 'since'>) => parentPort!.postMessage({ kind: 'beat', at: Date.now(), since: store.lockHeldSince(workerId), ...beat } satisfies PresenceBeat);

async function beat(): Promise<void> {
  if (Date.now() - pingedAt > stallMs) return report({ stalled: true });
  try {
    await store.present(workerId, first);
    first = false;
    report({});
  } catch (err) {
    report({ error: (err as Error).message });
  }
}

const schedule = () => {
  if (leaving) return;
  timer = setTimeout(() => {
    beating = beat().finally(schedule);
  }, everyMs);
};
beating = beat().finally(schedule);

parentPort!.on('message', (m: ToPresenceThread) => {
  if (m.kind === 'ping') pingedAt = Date.now();
  else if (m.kind === 'leave') {
    leaving = true;
    clearTimeout(timer);
    void beating
      .then(() => store.leave(workerId))
      .catch(() => undefined)
      .finally(() => void pool.end().finally(() => process.exit(0)));
  }
});
