// The guest agents' scrape targets for Prometheus's HTTP service discovery: a table.
import { guestScrapeTargets } from '../../lib/guest-targets';

const member = { id: 'i1', name: 'db1', projectId: 'p', address: '10.0.0.5', replicationSetId: 's1' };

test.each([
  ['a member of a set', [member], 9464, [{ targets: ['10.0.0.5:9464'], labels: { trove_instance_id: 'i1', trove_instance_name: 'db1', trove_project: 'p', trove_replication_set: 's1' } }]],
  ['a standalone instance has no set label', [{ ...member, replicationSetId: null }], 9464, [{ targets: ['10.0.0.5:9464'], labels: { trove_instance_id: 'i1', trove_instance_name: 'db1', trove_project: 'p' } }]],
  ['a server not booted yet (no address) is not a target', [{ ...member, address: null }], 9464, []],
  ['guests serve no metrics (port 0): nothing to scrape', [member], 0, []],
])('%s', (_, instances, port, expected) => {
  expect(guestScrapeTargets(instances, port)).toEqual(expected);
});
