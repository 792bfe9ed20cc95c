// A worker that takes watch attempts and dies before claiming them: present in the registry
// like an orchestrator worker (its lock, its Temporal identity), polling the orchestrator's
// activities, but its watchSet never claims its set and never ends. A test SIGKILLs it and
// expects the survivors to find the attempts it held. Run by test/integration/watch-handover.test.ts:
//   node --import tsx test/helpers/claimless-worker.ts
import { NativeConnection, Worker } from '@temporalio/worker';
import { loadConfig, orchestratorConfigSchema } from '../../lib/config';
import { ORCHESTRATOR_TASK_QUEUE } from '../../lib/names';
import { payloadDataConverter } from '../../lib/payload-codec';
import { registryConnectionOf } from '../../registry';
import { startPresence } from '../../workers/presence';
import { newWorkerId, temporalIdentityOf } from '../../workers/watch-handover';

async function main(): Promise<void> {
  const config = loadConfig(orchestratorConfigSchema);
  const workerId = newWorkerId();
  startPresence(workerId, registryConnectionOf(config), { log: { info: () => undefined, warn: () => undefined } });
  const connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
  const worker = await Worker.create({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: ORCHESTRATOR_TASK_QUEUE,
    dataConverter: payloadDataConverter(config),
    identity: temporalIdentityOf(workerId),
    // As many polls as the orchestrator's: it takes its share of retried attempts.
    maxConcurrentActivityTaskPolls: 100,
    activities: { watchSet: () => new Promise<never>(() => undefined) },
  });
  console.log(JSON.stringify({ workerId, msg: 'claimless worker polling' }));
  await worker.run();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
