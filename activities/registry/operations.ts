// An operation's first and last registry steps: begin (the rulebook's check, the locks in
// their one order, the check again under them) and end (locks released in reverse, unbuilt
// rows discarded, a set left alone dissolved).
import { ApplicationFailure } from '@temporalio/common';
import { ErrorType, REFUSAL_ERROR_TYPE } from '../../lib/errors';
import { busy, check, locksFor, refusalText, type Limits, type OperationType, type Refusal, type ResizeRequest } from '../../lib/rules';
import { replicaNames, replicaShape } from '../../lib/names';
import { checkPlacement, type PlacementReader } from '../../lib/placement-check';
import type { InstanceRecord, Registry } from '../../registry';
import { gatherFacts } from '../../registry/facts';
import { setView, summary, type InstanceSummary, type SetView } from './views';

export interface BeginInput {
  operation: { id: string; type: OperationType };
  projectId: string;
  instanceId: string;
  /** createReplicas: how many replicas are asked for. */
  count?: number;
  /** createReplicas: the replicas' ids and the name asked for, to name them (replicaNames); the zone asked for, to place them. */
  replicas?: { ids: string[]; name?: string; availabilityZone?: string };
  /** resizeInstance: the new flavor or volume size, checked against the instance's (lib/rules.ts checkResize). */
  resize?: ResizeRequest;
}

export interface BeginResult {
  instance: InstanceSummary;
  set?: SetView;
  /** createReplicas: each replica's name: the one the API recorded, else the next free default. */
  replicaNames?: string[];
}

export interface EndInput {
  operationId: string;
  instanceId?: string;
  setId?: string | null;
  /** Replica rows recorded ahead of builds that never started. */
  discardUnbuilt?: string[];
}

/** What an operation's end let go of (a result, not nothing: the Web UI shows one either way). */
export interface EndResult {
  released: string[];
}

/** A refusal as a failure: waiting for a set's lock is retried, every other refusal is final. */
export function refusalFailure(r: Refusal): ApplicationFailure {
  const type = REFUSAL_ERROR_TYPE[r.kind];
  const message = refusalText(r, { source: 'sourceInstanceId', flavor: 'flavorId', volume: 'volumeSizeGb' });
  return r.kind === 'wait' ? ApplicationFailure.retryable(message, type) : ApplicationFailure.nonRetryable(message, type);
}

/** A lock its holder let go (or whose row went) between the failed take and the read of who held it: asking again will do. */
const changedHands = (what: string): ApplicationFailure => ApplicationFailure.retryable(`the lock of ${what} changed hands while it was asked for; try again`);

export function createOperationActivities(registry: Registry, limits: Limits, placement?: PlacementReader) {
  const { instances, locks, sets } = registry;

  /** Names the replicas as the API does: recorded rows keep theirs; the others take the next free default. */
  async function namesFor(source: InstanceRecord, r: { ids: string[]; name?: string }): Promise<string[]> {
    const recorded = await Promise.all(r.ids.map((id) => instances.get(id)));
    const taken = (await instances.list(source.projectId)).map((i) => i.name);
    const fresh = replicaNames(source.name, r.name, r.ids.length, taken);
    return r.ids.map((_, i) => recorded[i]?.name ?? fresh[i]!);
  }

  async function end(input: EndInput): Promise<EndResult> {
    if (input.discardUnbuilt?.length) await instances.removeUnbuilt(input.discardUnbuilt);
    if (input.instanceId) await locks.release('instance', input.instanceId, input.operationId);
    if (input.setId) {
      await locks.release('set', input.setId, input.operationId);
      await sets.dissolveIfAlone(input.setId);
    }
    return { released: [...(input.setId ? [`set ${input.setId}`] : []), ...(input.instanceId ? [`instance ${input.instanceId}`] : [])] };
  }

  return {
    async beginOperation(input: BeginInput): Promise<BeginResult> {
      const { operation } = input;
      const args = { operationId: operation.id, count: input.count, resize: input.resize };
      const rec = await instances.getInProject(input.projectId, input.instanceId);
      if (!rec) throw ApplicationFailure.nonRetryable(`instance ${input.instanceId} not found`, ErrorType.NotFound);
      const facts = await gatherFacts(registry, rec);
      const refusal = check(operation.type, facts, args, limits);
      if (refusal) throw refusalFailure(refusal);

      const want = locksFor(operation.type, facts);
      // createReplicas founds the set of a standalone source; so does a rebuild whose set dissolved (its replacement stands alone).
      const founds = operation.type === 'createReplicas' ? rec.id : (operation.type === 'rebuildAsReplica' || operation.type === 'rejoinPair') && !want.set ? facts.formerSet?.sourceId : undefined;
      const setId = founds ? await sets.ensure(founds, rec.projectId) : want.set;
      const taken: EndInput = { operationId: operation.id };
      const give = async (r: Refusal) => {
        await end(taken);
        return refusalFailure(r);
      };
      if (setId) {
        const got = await locks.acquire('set', setId, operation.id, operation.type);
        if (!got.acquired) {
          if (founds) await sets.dissolveIfAlone(setId);
          const setLock = { operationId: got.heldBy, operationType: got.type };
          const refusal = busy({ instance: { id: rec.id, status: rec.status, lock: { operationId: null, operationType: null }, setId }, setLock }, operation);
          throw refusal ? await give(refusal) : changedHands(`replication set ${setId}`);
        }
        taken.setId = setId;
      }
      if (want.instance) {
        const got = await locks.acquire('instance', rec.id, operation.id, operation.type);
        if (!got.acquired) {
          if (!got.heldBy) {
            await end(taken);
            throw changedHands(`instance ${rec.id}`);
          }
          throw await give({ kind: 'conflict', message: `instance ${rec.id} is busy with operation ${got.heldBy} (${got.type})`, operation: got.heldBy });
        }
        taken.instanceId = rec.id;
      }
      // Under the locks: what was checked may have changed since.
      const now = await instances.get(rec.id);
      if (!now) throw await give({ kind: 'invalid', message: `instance ${rec.id} was deleted meanwhile` });
      const again = check(operation.type, await gatherFacts(registry, now), args, limits);
      if (again) throw await give(again);
      // The fault shown is the last operation's: one that begins on the instance clears the one before.
      if (now.fault !== null) await instances.update(now.id, { fault: null });
      if (placement && input.replicas) {
        // The replicas go where the API would send them (lib/names replicaShape), into the source's group.
        const zone = replicaShape({ availabilityZone: input.replicas.availabilityZone }, now).availabilityZone;
        const ask = { zone, count: input.replicas.ids.length, serverGroupId: now.serverGroupId };
        // Nova not answering is retried, with the locks let go meanwhile: the workflow's own
        // release names no set when its begin failed.
        const problems = await checkPlacement(placement, ask, { zone: 'template.availabilityZone', count: 'count' }).catch(async (err: unknown) => {
          await end(taken);
          throw err;
        });
        if (problems.length) throw await give({ kind: 'invalid', message: problems.join('; ') });
      }
      const names = input.replicas && (await namesFor(now, input.replicas));
      return { instance: summary(now), ...(setId ? { set: await setView(registry, setId) } : {}), ...(names ? { replicaNames: names } : {}) };
    },

    async endOperation(input: EndInput): Promise<EndResult> {
      return end(input);
    },
  };
}
