// How a buildReplica child tells its createReplicas parent where it is, so the parent's
// query and Web UI details show every replica's phase in one place.
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { ReplicaPhase } from '../lib/schemas';

export interface ReplicaProgress {
  replicaId: string;
  name: string;
  phase: ReplicaPhase;
  restoredBytes?: number;
  secondsBehind?: number | null;
  error?: string;
}

export const replicaProgressSignal = defineSignal<[ReplicaProgress]>('replicaProgress');

/** Parent → child: the snapshot a replica provisioned in advance waits for, or why there is none. */
export type SnapshotOutcome = { gtid: string } | { error: string };
export const snapshotReadySignal = defineSignal<[SnapshotOutcome]>('snapshotReady');
export const replicasQuery = defineQuery<ReplicaProgress[]>('replicas');

/** Past restoring (attaching, waiting for the GTID, failed...), a replica never reads the snapshot again. */
export function doneWithSnapshot(phase: ReplicaPhase): boolean {
  return !['pending', 'registering', 'creating server', 'restoring'].includes(phase);
}

export function renderReplicaTable(rows: ReplicaProgress[]): string {
  const lines = ['| replica | phase | restored | lag (s) |', '|---|---|---|---|'];
  for (const r of rows) {
    const mb = r.restoredBytes === undefined ? '' : `${(r.restoredBytes / 1048576).toFixed(1)} MiB`;
    lines.push(`| ${r.name} | ${r.phase}${r.error ? `: ${r.error}` : ''} | ${mb} | ${r.secondsBehind ?? ''} |`);
  }
  return lines.join('\n');
}
