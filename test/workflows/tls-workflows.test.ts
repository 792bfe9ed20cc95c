// enableReplicationTls with renew against a real Temporal server with mocked activities:
// every member's certificate re-issued and reloaded, no link re-pointed, no account
// changed; a plain set is refused under the lock, changing nothing.
import { randomUUID } from 'node:crypto';
import type { EnableReplicationTlsResult } from '../../lib/schemas';
import { newWorld, seedSet } from '../helpers/fake-activities';
import { withFakeWorkers } from '../helpers/workers';
import { failureOf, useWorkflowEnv } from '../helpers/workflow-env';

const ctx = useWorkflowEnv();

function renew(tls: boolean) {
  const world = newWorld();
  world.settings.tls = tls;
  const run = withFakeWorkers(ctx, ctx.bundle, world, async (taskQueue, prefix) => {
    const { source } = seedSet(world, prefix);
    return (await ctx.env.temporal.workflow.execute('enableReplicationTls', {
      taskQueue,
      workflowId: `enable-tls-${randomUUID()}`,
      args: [{ instanceId: source.id, projectId: 'proj-a', renew: true }],
    })) as EnableReplicationTlsResult;
  });
  return { world, run };
}

test("renewal re-issues every member's certificate from the set's CA and reloads it, leaving every link and account as it was", async () => {
  const { world, run } = renew(true);
  const result = await run;
  expect(result.renewed).toBe(true);
  expect(result.authorityCreated).toBe(true);
  expect(result.certificates).toHaveLength(3);
  expect(new Set(result.certificates.map((c) => c.serial)).size).toBe(3);
  expect(result.certificates.map((c) => c.reloaded)).toEqual(['flush ssl', 'flush ssl', 'flush ssl']);
  expect(world.calls.filter((c) => c.startsWith('installCertificate'))).toHaveLength(3);
  expect(world.calls.filter((c) => c.startsWith('startReplication') || c.startsWith('createReplicationUser'))).toEqual([]);
  // Every link still checked: each replica catches up with its source.
  expect(world.calls.filter((c) => c.startsWith('waitForGtid'))).toHaveLength(2);
  expect(world.settings.tls).toBe(true);
});

test('renewal of a plain set is refused under the lock: no certificate, nothing changed', async () => {
  const { world, run } = renew(false);
  const f = await failureOf(run);
  expect(f.message).toMatch(/replication\.tls\.renew: the set does not replicate over TLS/);
  expect(world.calls.filter((c) => c.includes('Certificate') || c === 'ensureSetAuthority')).toEqual([]);
  expect(world.settings.tls).toBe(false);
});

test('a CA rotation: every member trusts both CAs before any serves a certificate from the new one, then the new CA alone; links and accounts untouched', async () => {
  const world = newWorld();
  world.settings.tls = true;
  const result = await withFakeWorkers(ctx, ctx.bundle, world, async (taskQueue, prefix) => {
    const { source } = seedSet(world, prefix);
    return (await ctx.env.temporal.workflow.execute('enableReplicationTls', {
      taskQueue,
      workflowId: `rotate-ca-${randomUUID()}`,
      args: [{ instanceId: source.id, projectId: 'proj-a', rotateCa: true }],
    })) as EnableReplicationTlsResult;
  });
  expect(result.renewed).toBe(true);
  expect(result.rotatedCa?.caCertificatePem).toMatch(/next/);
  const steps = world.calls.filter((c) => /^(installTrust|signServerCertificate|installCertificate|beginCaRotation|completeCaRotation)/.test(c));
  const kinds = steps.map((c) => (c.startsWith('installTrust') ? `installTrust:${c.split(':').pop()}` : c.startsWith('signServerCertificate') ? `sign${c.endsWith(':next') ? ':next' : ''}` : c.split(':')[0]));
  // Trust both (3 members) -> 3 certificates from the new CA -> the new CA is the set's -> trust it alone.
  const firstSign = kinds.indexOf('sign:next');
  expect(kinds.slice(0, firstSign)).toEqual(['beginCaRotation', 'installTrust:2', 'installTrust:2', 'installTrust:2']);
  expect(kinds.filter((k) => k === 'sign:next')).toHaveLength(3);
  expect(kinds.filter((k) => k === 'sign')).toEqual([]);
  const completed = kinds.indexOf('completeCaRotation');
  expect(completed).toBeGreaterThan(kinds.lastIndexOf('installCertificate'));
  expect(kinds.slice(completed + 1)).toEqual(['installTrust:1', 'installTrust:1', 'installTrust:1']);
  expect(world.calls.filter((c) => c.startsWith('startReplication') || c.startsWith('createReplicationUser'))).toEqual([]);
});

test('a CA rotation of a plain set is refused under the lock, naming rotate_ca', async () => {
  const world = newWorld();
  const run = withFakeWorkers(ctx, ctx.bundle, world, async (taskQueue, prefix) => {
    const { source } = seedSet(world, prefix);
    return ctx.env.temporal.workflow.execute('enableReplicationTls', { taskQueue, workflowId: `rotate-ca-${randomUUID()}`, args: [{ instanceId: source.id, projectId: 'proj-a', rotateCa: true }] });
  });
  const f = await failureOf(run);
  expect(f.message).toMatch(/replication\.tls\.rotate_ca: the set does not replicate over TLS/);
  expect(world.calls.filter((c) => c.startsWith('installTrust') || c === 'beginCaRotation')).toEqual([]);
});
