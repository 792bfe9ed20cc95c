// Failover inside a master-master pair, as tables: which operation the monitor starts, in
// which role each member's health is judged, whose word counts, and who takes over.
import { failoverOperationFor, healthRole, judgesOfSource, takesOver } from '../../lib/pair-failover';
import type { Topology } from '../../lib/topology';

const star: Topology = { setId: 's', members: [{ id: 's', writable: true }, { id: 'r', writable: false }], links: [{ source: 's', replica: 'r' }] };
const pair: Topology = {
  setId: 's',
  members: [{ id: 'a', writable: false }, { id: 'b', writable: true }, { id: 'r', writable: false }, { id: 'q', writable: false }],
  links: [{ source: 'a', replica: 'b' }, { source: 'b', replica: 'a' }, { source: 'b', replica: 'r' }, { source: 'r', replica: 'q' }],
  coMasters: ['a', 'b'],
};

test.each([
  ['a set with a source', star, 'ejectReplicaSource', 's', undefined],
  ['a pair whose active side is b', pair, 'failOverPair', 'b', 'a'],
] as const)('%s', (_, t, operation, source, successor) => {
  expect(failoverOperationFor(t)).toBe(operation);
  expect(t.members.filter((m) => healthRole(t, m.id).role === 'source').map((m) => m.id)).toEqual([source]);
  expect(healthRole(t, source).replicates).toBe(t.coMasters ? true : undefined);
  expect(takesOver(t)).toBe(successor);
});

test.each([
  ['the passive side judges the active one', 'a', true],
  ['a replica of the active side judges it', 'r', true],
  ['the active side is no judge of itself', 'b', false],
  ['a replica two links down is no judge', 'q', false],
])('%s', (_, id, judges) => expect(judgesOfSource(pair)(id)).toBe(judges));
