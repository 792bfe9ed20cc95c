// The Web UI's words for each operation (lib/summaries.ts) and its tables (lib/text-table.ts).
import { randomUUID } from 'node:crypto';
import { operationMetadata, type DescribedOperation } from '../../lib/summaries';
import { textTable } from '../../lib/text-table';

const id = randomUUID();
const sealed = 'v1.c2VhbGVk.bm9uY2U.dGFn';
const inputs: { [T in DescribedOperation]: Parameters<typeof operationMetadata<T>>[1] } = {
  provisionInstance: { instanceId: id, projectId: 'proj-a', name: 'shop-db', flavorId: '1', volumeSizeGb: 2, databases: ['shop'], users: [{ name: 'app', sealedPassword: sealed, databases: ['shop'] }] },
  deleteInstance: { instanceId: id, projectId: 'proj-a' },
  createReplicas: { sourceInstanceId: id, projectId: 'proj-a', count: 2 },
  buildReplica: {
    replicaId: id, projectId: 'proj-a', name: 'shop-db-replica-1', flavorId: '1', volumeSizeGb: 2, availabilityZone: null, readOnly: true, snapshotId: randomUUID(), setId: randomUUID(),
    source: { instanceId: randomUUID(), novaServerId: 'n1', address: '127.0.1.1', port: 3306 },
  },
  detachReplica: { instanceId: id, projectId: 'proj-a' },
  promoteToReplicaSource: { instanceId: id, projectId: 'proj-a' },
  ejectReplicaSource: { instanceId: id, projectId: 'proj-a', force: true },
  monitorReplicationSet: { setId: id, projectId: 'proj-a' },
  watchReplicationSet: { setId: id, projectId: 'proj-a' },
  manageAccess: { instanceId: id, projectId: 'proj-a', novaServerId: 'n1', action: { kind: 'changePasswords', users: [{ name: 'app', host: '%', sealedPassword: sealed }] } },
  restartInstance: { instanceId: id, projectId: 'proj-a' },
  resizeInstance: { instanceId: id, projectId: 'proj-a', volumeSizeGb: 3 },
  recoverDeadRelay: { instanceId: id, projectId: 'proj-a' },
  enableReplicationTls: { instanceId: id, projectId: 'proj-a' },
  rebuildAsReplica: { instanceId: id, projectId: 'proj-a' },
  createBackup: { backupId: id, instanceId: id, projectId: 'proj-a' },
  deleteBackup: { backupId: id, projectId: 'proj-a' },
  enableDr: { instanceId: id, projectId: 'proj-a', profile: 'dr-az1-az2' },
  disableDr: { instanceId: id, projectId: 'proj-a', setId: 'set-1', profile: 'dr-az1-az2', remove: [randomUUID()], keepsReplicas: false },
  rebuildAfterZoneReturn: { projectId: 'proj-a', zone: 'az1', instanceIds: [id] },
  createPair: { instanceId: id, projectId: 'proj-a', peerId: randomUUID(), name: 'shop-db-b' },
  switchPairActive: { instanceId: id, projectId: 'proj-a' },
  failOverPair: { instanceId: id, projectId: 'proj-a', automatic: true },
  breakPair: { instanceId: id, projectId: 'proj-a' },
};

test.each(Object.keys(inputs) as DescribedOperation[])('%s: one-line summary naming the project; details with the full id; no secret', (type) => {
  const m = operationMetadata(type, inputs[type] as never);
  expect(m.staticSummary).not.toMatch(/\n/);
  expect(m.staticSummary).toMatch(/ · project proj-a$/);
  expect(m.staticDetails).toContain(`\`${id}\``);
  expect(JSON.stringify(m)).not.toContain(sealed);
});

test('a name the caller knows replaces the start of the id', () => {
  expect(operationMetadata('detachReplica', inputs.detachReplica).staticSummary).toBe(`Detach replica \`${id.slice(0, 8)}\` from its source · project proj-a`);
  expect(operationMetadata('detachReplica', inputs.detachReplica, { name: 'r1' }).staticSummary).toBe('Detach replica `r1` from its source · project proj-a');
  expect(operationMetadata('provisionInstance', inputs.provisionInstance).staticDetails).toContain('- users: app');
});

test('a users-API request says what it does, by account name', () => {
  expect(operationMetadata('manageAccess', inputs.manageAccess, { name: 'shop-db' }).staticSummary).toBe('Users and databases of `shop-db`: change the password of `app@%` · project proj-a');
  expect(operationMetadata('resizeInstance', { instanceId: id, projectId: 'p', flavorId: '2' }).staticSummary).toMatch(/^Resize `\w+`: flavor 2 · project p$/);
});

test('textTable: a fenced block with padded columns, a rule under the header and long cells cut', () => {
  expect(textTable(['replica', 'phase'], [['r1', 'active'], ['replica-2', 'x'.repeat(50)]])).toBe(
    ['', '```', 'replica    phase', '─────────  ────────────────────────────────────────', 'r1         active', `replica-2  ${'x'.repeat(39)}…`, '```', ''].join('\n'),
  );
});
