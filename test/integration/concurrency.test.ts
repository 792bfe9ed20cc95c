// Many concurrent operations through the API, on one replication set and across sets:
// per set they are refused (409) or, when two slip past the API's check together, the
// second fails with OperationConflict; every accepted operation ends; server_ids stay
// unique; afterwards every invariant holds.
import { WorkflowFailedError } from '@temporalio/client';
import type { ApplicationFailure } from '@temporalio/common';
import { checkInvariants } from '../helpers/invariants';
import { adminQuery } from '../helpers/mysql';
import { eventually, useTestStack } from '../helpers/stack';

const env = useTestStack();

const idle = (id: string) =>
  eventually(`${id} idle`, async () => {
    const i = (await env.api('GET', `/v1.0/proj-a/instances/${id}`)).body?.instance;
    return i?.status === 'ACTIVE' && !i.operation ? i : undefined;
  }, 240_000);

/** Fires every request at once; waits for every accepted operation to end. */
async function storm(requests: [string, string, unknown][]) {
  const answers = await Promise.all(requests.map(([method, p, body]) => env.api(method, p, body)));
  const outcomes = await Promise.all(
    answers.map(async (a) => {
      if (a.status === 409) return 'refused';
      if (a.status !== 202) return `unexpected ${a.status}: ${JSON.stringify(a.body)}`;
      const id = a.body.operation?.id as string;
      try {
        await env.temporal.workflow.getHandle(id).result();
        return 'completed';
      } catch (err) {
        const cause = (err as WorkflowFailedError).cause as ApplicationFailure | undefined;
        return cause?.type === 'OperationConflict' ? 'conflict' : `failed: ${cause?.message ?? String(err)}`;
      }
    }),
  );
  return outcomes;
}

test('concurrent creates, replicates, promotes and detaches: serialized per set, all end, invariants hold', async () => {
  const made = await Promise.all(
    ['set-a', 'set-b'].map((name) => env.api('POST', '/v1.0/proj-a/instances', { instance: { name, flavorRef: '1', volume: { size: 1 }, databases: [{ name: 'd' }] } })),
  );
  const [a, b] = made.map((m) => m.body.instance.id as string) as [string, string];
  await Promise.all([idle(a), idle(b)]);

  // Three replicate requests on set A and two on set B, all at once.
  const first = await storm([
    ['POST', `/v1.0/proj-a/instances/${a}/action`, { replicate: { count: 1 } }],
    ['POST', `/v1.0/proj-a/instances/${a}/action`, { replicate: { count: 1 } }],
    ['POST', `/v1.0/proj-a/instances/${a}/action`, { replicate: { count: 1 } }],
    ['POST', `/v1.0/proj-a/instances/${b}/action`, { replicate: { count: 1 } }],
    ['POST', `/v1.0/proj-a/instances/${b}/action`, { replicate: { count: 1 } }],
  ]);
  expect(first.filter((o) => o.startsWith('unexpected') || o.startsWith('failed'))).toEqual([]);
  expect(first.slice(0, 3).filter((o) => o === 'completed').length).toBeGreaterThanOrEqual(1);
  expect(first.slice(3).filter((o) => o === 'completed').length).toBeGreaterThanOrEqual(1);

  const replicaOfA = ((await env.api('GET', `/v1.0/proj-a/instances/${a}`)).body.instance.replicas as { id: string }[])[0]!.id;
  await idle(replicaOfA);
  // On set A: a promote and a detach of the same replica, and another replicate, at once.
  const second = await storm([
    ['POST', `/v1.0/proj-a/instances/${replicaOfA}/action`, { promote_to_replica_source: {} }],
    ['POST', `/v1.0/proj-a/instances/${replicaOfA}/topology/action`, { detach: {} }],
    ['POST', `/v1.0/proj-a/instances/${a}/action`, { replicate: { count: 1 } }],
  ]);
  expect(second.filter((o) => o.startsWith('unexpected') || o.startsWith('failed'))).toEqual([]);
  expect(second.filter((o) => o === 'completed')).toHaveLength(1);

  // Every server_id is unique and is the one the registry allocated.
  const [rows] = await env.registry!.pool.query('SELECT i.nova_server_id AS srv, s.server_id AS sid FROM instances i JOIN server_ids s ON s.instance_id = i.id WHERE i.status = "ACTIVE"');
  const seen = new Set<number>();
  for (const r of rows as { srv: string; sid: number }[]) {
    const [live] = await adminQuery<{ sid: number }>(env.dataDir, r.srv, 'SELECT @@server_id AS sid');
    expect(Number(live!.sid)).toBe(Number(r.sid));
    expect(seen.has(Number(r.sid))).toBe(false);
    seen.add(Number(r.sid));
  }
  expect(await checkInvariants(env)).toEqual([]);
});
