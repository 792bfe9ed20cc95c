// The hand-over loop on its own (workers/watch-handover.ts): which attempts it fails and what
// it forgets. The store is a fake keyed the same way (the registry's queries are tested
// against MariaDB in test/integration/registry.test.ts); the absent list is scripted.
import { ApplicationFailure } from '@temporalio/common';
import type { GoneWorker, WatchClaim } from '../../registry/watch-claims';
import { startWatchHandover, type HandoverDeps } from '../../workers/watch-handover';

const claim = (setId: string, n: number): WatchClaim => ({ setId, workflowId: `monitor-${setId}`, taskToken: new Uint8Array([n]) });

const absentFor = (claims: WatchClaim[]): GoneWorker => ({ why: 'absent', claims });

function fakes(absent: Map<string, GoneWorker>, failing: number[] = []) {
  const calls = { judges: [] as (number | null | undefined)[], failed: [] as { token: number; failure: Error }[], released: [] as string[], forgotten: [] as string[] };
  const deps: HandoverDeps = {
    claims: {
      absent: async (_ms, judge) => {
        calls.judges.push(judge);
        const now = new Map(absent);
        absent.clear();
        return now;
      },
      release: async (attempts) => void calls.released.push(...attempts.map((a) => a.setId)),
      forget: async (id) => void calls.forgotten.push(id),
      claimedBy: async () => new Map(),
      unclaimed: async () => [],
    },
    presence: { lockHeldSince: () => 1234 },
    strandedOn: async () => null,
    failById: async () => undefined,
    fail: async (token, failure) => {
      calls.failed.push({ token: token[0]!, failure });
      if (failing.includes(token[0]!)) throw new Error('activity not found');
    },
    log: { info: () => undefined, warn: () => undefined },
  };
  return { deps, calls };
}

test("an absent worker's attempts are failed retryably and released, and it is forgotten; this worker's own claims are left alone", async () => {
  const { deps, calls } = fakes(new Map([['me', absentFor([claim('s0', 0)])], ['gone', absentFor([claim('s1', 1), claim('s2', 2)])]]));
  const h = startWatchHandover('me', deps, { everyMs: 10 });
  await new Promise((r) => setTimeout(r, 50));
  await h.stop();
  expect(calls.failed.map((f) => f.token).sort()).toEqual([1, 2]);
  const failure = calls.failed[0]!.failure as ApplicationFailure;
  expect(failure).toBeInstanceOf(ApplicationFailure);
  expect(failure).toMatchObject({ type: 'WorkerAbsent', nonRetryable: false });
  expect(failure.message).toBe('orchestrator worker gone was absent for 2 s: its watch is handed to a live worker');
  expect(calls.released.sort()).toEqual(['s1', 's2']);
  expect(calls.forgotten).toEqual(['gone']);
  // It judges with its own lock's age (which decides whether others' free locks count), at every beat.
  expect(calls.judges.length).toBeGreaterThan(1);
  expect(calls.judges.every((j) => j === 1234)).toBe(true);
});

test("a worker whose registry session ended is said so in the failure", async () => {
  const { deps, calls } = fakes(new Map([['killed', { why: 'session ended', claims: [claim('s1', 1)] }]]));
  const h = startWatchHandover('me', deps, { everyMs: 10 });
  await new Promise((r) => setTimeout(r, 50));
  await h.stop();
  expect(calls.failed.map((f) => f.failure.message)).toEqual(['orchestrator worker killed ended its registry session: its watch is handed to a live worker']);
});

test('an attempt the server refuses (already ended or retried) does not stop the others; the sets of the gone worker are watched here meanwhile', async () => {
  const { deps, calls } = fakes(new Map([['gone', absentFor([claim('s1', 1), claim('s2', 2), claim('s3', 3)])]]), [2]);
  const meanwhile: string[] = [];
  const h = startWatchHandover('me', { ...deps, watchMeanwhile: (ids) => void meanwhile.push(...ids) }, { everyMs: 10 });
  await new Promise((r) => setTimeout(r, 50));
  await h.stop();
  expect(calls.released.sort()).toEqual(['s1', 's2', 's3']);
  expect(calls.forgotten).toEqual(['gone']);
  expect(meanwhile.sort()).toEqual(['s1', 's2', 's3']);
});

test('a registry that does not answer is logged and tried again at the next beat; stop ends the loop', async () => {
  const { deps } = fakes(new Map());
  let tries = 0;
  const warned: string[] = [];
  deps.claims.absent = async () => {
    tries++;
    throw new Error('connect ECONNREFUSED');
  };
  deps.log.warn = (_o, msg) => void warned.push(msg);
  const h = startWatchHandover('me', deps, { everyMs: 10 });
  await new Promise((r) => setTimeout(r, 60));
  await h.stop();
  const after = tries;
  await new Promise((r) => setTimeout(r, 40));
  expect(after).toBeGreaterThan(1);
  expect(tries).toBe(after);
  // Said once, not at every beat.
  expect(warned).toEqual(['watch hand-over: registry not reachable']);
});

test("an absent worker's retried attempts that the server handed to its open polls are failed again by id; a claimed set is left; not after a killed worker's hand-over", async () => {
  const frozen = 'host-a/123/abcd1234';
  const killed = 'host-b/456/ef012345';
  const { deps, calls } = fakes(new Map([[frozen, absentFor([claim('s1', 1), claim('s2', 2)])], [killed, { why: 'session ended', claims: [claim('s3', 3)] }]]));
  const asked: string[] = [];
  const failedById: string[] = [];
  // s1's retry runs on this worker (claimed); s2's was handed to the frozen worker's poll, once.
  deps.claims.claimedBy = async (ids) => new Map(ids.filter((id) => id === 's1').map((id) => [id, 'me']));
  let strandedOnce = true;
  deps.strandedOn = async (workflowId, identity) => {
    asked.push(`${workflowId} ${identity}`);
    const stranded = workflowId === 'monitor-s2' && strandedOnce;
    strandedOnce = false;
    return stranded ? { workflowId, runId: 'run-2', activityId: '7' } : null;
  };
  deps.failById = async (a, failure) => void failedById.push(`${a.workflowId}/${a.runId}/${a.activityId} ${(failure as ApplicationFailure).type}`);
  const h = startWatchHandover('me', deps, { everyMs: 10, strandedFirstMs: 20, strandedEveryMs: 20 });
  await new Promise((r) => setTimeout(r, 150));
  await h.stop();
  expect(calls.failed.map((f) => f.token).sort()).toEqual([1, 2, 3]);
  expect(failedById).toEqual(['monitor-s2/run-2/7 WorkerAbsent']);
  // Only the frozen worker's unclaimed set is looked at, by the frozen worker's Temporal identity; looked at again until the check ends.
  expect(new Set(asked)).toEqual(new Set(['monitor-s2 123@host-a']));
  expect(asked.length).toBeGreaterThan(1);
});

test("a killed worker holding no claim: the attempts it took and never claimed are found among the unclaimed sets by its identity and failed by id, once claimed they are left", async () => {
  const killed = 'host-b/456/ef012345';
  const { deps, calls } = fakes(new Map([[killed, { why: 'session ended', claims: [] }]]));
  // s4's attempt was taken by the killed worker; s5's runs on a live worker that has not claimed it yet.
  deps.claims.unclaimed = async () => ['s4', 's5'];
  let claimedNow: string[] = [];
  deps.claims.claimedBy = async (ids) => new Map(ids.filter((id) => claimedNow.includes(id)).map((id) => [id, 'me']));
  const asked: string[] = [];
  const failedById: string[] = [];
  deps.strandedOn = async (workflowId, identity) => {
    asked.push(`${workflowId} ${identity}`);
    return workflowId === 'monitor-replication-set-s4' ? { workflowId, runId: 'run-4', activityId: '3' } : null;
  };
  deps.failById = async (a, failure) => {
    failedById.push(`${a.workflowId} ${(failure as ApplicationFailure).type}`);
    // Its retried attempt claims the set on a live worker.
    claimedNow = ['s4', 's5'];
  };
  const h = startWatchHandover('me', deps, { everyMs: 10, strandedEveryMs: 20 });
  await new Promise((r) => setTimeout(r, 120));
  await h.stop();
  expect(calls.failed).toEqual([]);
  expect(failedById).toEqual(['monitor-replication-set-s4 WorkerAbsent']);
  expect(new Set(asked)).toEqual(new Set(['monitor-replication-set-s4 456@host-b', 'monitor-replication-set-s5 456@host-b']));
  expect(calls.forgotten).toEqual([killed]);
});
