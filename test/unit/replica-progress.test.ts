// A replica's row in createReplicas' table once its build is over: the build reports only
// the phases that last, so the row's end comes from the child's result.
import type { ReplicaOutcome } from '../../lib/schemas';
import { settleRow, type ReplicaProgress } from '../../workflows/replica-progress';

const row = (p: Partial<ReplicaProgress>): ReplicaProgress => ({ replicaId: 'r1', name: 'db-replica-1', phase: 'restoring', ...p });
const outcome = (o: Partial<ReplicaOutcome>): ReplicaOutcome => ({ replicaId: 'r1', name: 'db-replica-1', status: 'ACTIVE', ...o });

test.each<[string, ReplicaProgress, ReplicaOutcome, Partial<ReplicaProgress>]>([
  ['active, with what the build measured', row({ phase: 'creating server' }), outcome({ restoredBytes: 1024, secondsBehind: 0 }), { phase: 'active', restoredBytes: 1024, secondsBehind: 0 }],
  ['active from an older build without figures: the row keeps its own', row({ restoredBytes: 512, secondsBehind: 3 }), outcome({}), { phase: 'active', restoredBytes: 512, secondsBehind: 3 }],
  ['failed, with the reason', row({ phase: 'catching up' }), outcome({ status: 'FAILED', error: 'checksum mismatch' }), { phase: 'failed', error: 'checksum mismatch' }],
  ['failed after the build said it cleaned up (older builds signal it)', row({ phase: 'cleaned up', error: 'boom' }), outcome({ status: 'FAILED', error: 'replica failed: boom' }), { phase: 'cleaned up', error: 'replica failed: boom' }],
  ['failed without a reason keeps the one it had', row({ phase: 'failed', error: 'boom' }), outcome({ status: 'FAILED' }), { phase: 'failed', error: 'boom' }],
])('%s', (_label, before, end, expected) => {
  expect(settleRow(before, end)).toEqual({ ...before, ...expected });
});
