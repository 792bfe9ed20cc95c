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
