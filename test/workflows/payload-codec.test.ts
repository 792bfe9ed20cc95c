// Encrypted payloads end to end on a real Temporal server: what the stack's client and
// workers store is ciphertext naming its key, the workflow still runs, and its history
// replays through the codec (with the key; without it, the replay says which key is missing).
import { randomUUID } from 'node:crypto';
import { Worker } from '@temporalio/worker';
import { ENCRYPTED_ENCODING, newPayloadKey, payloadDataConverter } from '../../lib/payload-codec';
import { newWorld, sampleProvisionSpec } from '../helpers/fake-activities';
import { withFakeWorkers } from '../helpers/workers';
import { useWorkflowEnv } from '../helpers/workflow-env';

const ctx = useWorkflowEnv();
const text = (b?: Uint8Array | null) => Buffer.from(b ?? []).toString('utf8');

test('a provision on the encrypted stack stores ciphertext, and its history replays through the codec', async () => {
  expect(ctx.dataConverter).toBeDefined();
  const spec = sampleProvisionSpec(randomUUID());
  const workflowId = `provision-${spec.instanceId}`;
  const result = await withFakeWorkers(ctx, ctx.bundle, newWorld(), (taskQueue) => ctx.env.temporal.workflow.execute('provisionInstance', { taskQueue, workflowId, args: [spec] }));
  expect(result).toMatchObject({ instanceId: spec.instanceId, status: 'ACTIVE' });

  const history = await ctx.env.temporal.workflow.getHandle(workflowId).fetchHistory();
  const input = history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!;
  expect(text(input.metadata!.encoding)).toBe(ENCRYPTED_ENCODING);
  expect(text(input.metadata!['encryption-key-id'])).toBe('local-1');
  expect(text(input.data)).not.toContain(spec.instanceId);
  const done = history.events!.find((e) => e.activityTaskCompletedEventAttributes)!.activityTaskCompletedEventAttributes!.result!.payloads![0]!;
  expect(text(done.metadata!.encoding)).toBe(ENCRYPTED_ENCODING);

  await Worker.runReplayHistory({ workflowBundle: ctx.bundle, dataConverter: ctx.dataConverter }, history, workflowId);
  const otherKey = payloadDataConverter({ TROVE_PAYLOAD_KEYS: newPayloadKey('other') });
  await expect(Worker.runReplayHistory({ workflowBundle: ctx.bundle, dataConverter: otherKey }, history, workflowId)).rejects.toThrow(/local-1/);
});
