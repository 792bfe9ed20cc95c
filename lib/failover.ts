// Which replica to promote when the source is gone: pure, so every rule is a table test.
// The most advanced replica by what it RECEIVED (Gtid_IO_Pos) wins, because it will apply
// its relay log before promotion; then by what it executed; ties go to the oldest member.
import { compareGtid, errantDomains, GtidParseError, parseGtidPosition, transactionsBehind, union, type GtidPosition } from './gtid';

export interface ReplicaObservation {
  instanceId: string;
  /** Creation order in the set: the tie-breaker. */
  order: number;
  reachable: boolean;
  /** Gtid_IO_Pos: received from the source (relay log). */
  ioPos: string;
  /** gtid_slave_pos: applied by the SQL thread. */
  slavePos: string;
  /** gtid_binlog_pos: written to its own binlog (replicated + local). */
  binlogPos: string;
}

export interface CandidateChoice {
  candidate?: string;
  /** Why each replica was set aside. */
  excluded: Record<string, string>;
  /** The eligible replicas, best first, with what each has received. */
  ranking: { instanceId: string; received: string; behindBest: number }[];
}

interface Eligible {
  o: ReplicaObservation;
  received: GtidPosition;
  applied: GtidPosition;
}

const total = (p: GtidPosition) => [...p.values()].reduce((s, g) => s + g.seq, 0);

function better(a: Eligible, b: Eligible): number {
  const r = compareGtid(a.received, b.received);
  if (r === 'ahead') return -1;
  if (r === 'behind') return 1;
  // Diverged positions should not happen under strict mode; fall back to volume.
  if (r === 'diverged' && total(a.received) !== total(b.received)) return total(b.received) - total(a.received);
  const e = compareGtid(a.applied, b.applied);
  if (e === 'ahead') return -1;
  if (e === 'behind') return 1;
  return a.o.order - b.o.order;
}

export function chooseCandidate(replicas: ReplicaObservation[]): CandidateChoice {
  const excluded: Record<string, string> = {};
  const eligible: Eligible[] = [];
  for (const o of replicas) {
    if (!o.reachable) {
      excluded[o.instanceId] = 'unreachable';
      continue;
    }
    try {
      const io = parseGtidPosition(o.ioPos);
      const applied = parseGtidPosition(o.slavePos);
      const errant = errantDomains(parseGtidPosition(o.binlogPos), union(io, applied));
      if (errant.length) {
        excluded[o.instanceId] = `errant transactions in domain(s) ${errant.join(', ')}`;
        continue;
      }
      eligible.push({ o, received: union(io, applied), applied });
    } catch (err) {
      if (!(err instanceof GtidParseError)) throw err;
      excluded[o.instanceId] = `unreadable GTID position: ${err.message}`;
    }
  }
  eligible.sort(better);
  const best = eligible[0];
  return {
    candidate: best?.o.instanceId,
    excluded,
    ranking: eligible.map((e) => ({ instanceId: e.o.instanceId, received: [...e.received.values()].map((g) => `${g.domain}-${g.server}-${g.seq}`).join(','), behindBest: best ? transactionsBehind(e.received, best.received) : 0 })),
  };
}
