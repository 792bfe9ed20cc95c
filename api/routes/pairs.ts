// Master-master pair actions on an instance (Trove style: POST /instances/{id}/action):
// {"create_pair": {"name": ...}} makes the instance the active side of a new pair (its
// second master is built from one snapshot, in its zone and server group);
// {"switch_active": {}} makes the side addressed the active one. Refusals come from the
// rulebook (and Nova's placement) before the 202; the workflow asks again under its lock.
import { randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { replicaNames, replicaShape, workflowIds } from '../../lib/names';
import { pairPeerIdForRequest, startBreakPair, startCreatePair, startSwitchPairActive } from '../../lib/start';
import { formatIssues } from '../../lib/validation';
import { newReplicaRecord, type InstanceRecord } from '../../registry';
import { refusedReply, sendError } from '../errors';
import { placementProblems, refusal, requestIdOf, serverZone } from '../lookup';
import { breakPairAction, createPairAction, switchActiveAction } from '../schemas';
import { instanceView } from '../views';
import type { InstanceRouteDeps } from './instances';

type Req = FastifyRequest<{ Params: { project: string; id: string } }>;

const badRequest = (reply: FastifyReply, errors: string[]) => sendError(reply, 400, `invalid request: ${errors.join('; ')}`, { errors });

export function pairActions(d: InstanceRouteDeps): Record<string, (req: Req, reply: FastifyReply, rec: InstanceRecord, body: unknown) => Promise<unknown>> {
  return {
    async create_pair(req, reply, rec, body) {
      const parsed = createPairAction.safeParse(body ?? {});
      if (!parsed.success) return badRequest(reply, formatIssues(parsed.error, 'create_pair'));
      const refused = await refusal(d.registry, rec, 'createPair', {}, d.limits, { locality: 'instance.locality' });
      if (refused) return refusedReply(reply, refused);
      // The second side goes to the source's zone, on another host of its anti-affinity group.
      const zone = await serverZone(d.nova, rec);
      const problems = await placementProblems(d.nova, { zone, count: 1, serverGroupId: rec.serverGroupId }, { flavor: 'flavorRef', zone: 'availability_zone', count: 'create_pair' });
      if (problems.length) return badRequest(reply, problems);

      const project = req.params.project;
      const requestId = requestIdOf(req) ?? randomUUID();
      const peerId = pairPeerIdForRequest(project, rec.id, requestId);
      if (!(await d.registry.instances.get(peerId))) {
        const taken = parsed.data.name ? [] : (await d.registry.instances.list(project)).map((i) => i.name);
        const [name] = replicaNames(rec.name, parsed.data.name, 1, taken);
        const shape = replicaShape({ availabilityZone: zone }, rec);
        await d.registry.instances.insert(
          newReplicaRecord({ replicaId: peerId, projectId: project, name: name!, ...shape, sourceId: rec.id, readOnly: true, operationId: workflowIds.buildReplica(peerId), locality: rec.locality, serverGroupId: rec.serverGroupId }),
        );
      }
      const peer = (await d.registry.instances.get(peerId))!;
      let handle;
      try {
        handle = await startCreatePair(d.temporal, { instanceId: rec.id, projectId: project, peerId, name: peer.name }, { instanceName: rec.name });
      } catch (err) {
        await d.registry.instances.removeUnbuilt([peerId]);
        req.log.error({ err }, 'could not start createPair');
        return sendError(reply, 503, 'the orchestrator is not reachable; nothing was created, try again');
      }
      const operation = { id: handle.workflowId, type: 'createPair' };
      return reply.code(202).send({ instance: instanceView(peer, d.baseUrl, operation), operation });
    },

    async break_pair(req, reply, rec, body) {
      const parsed = breakPairAction.safeParse(body ?? {});
      if (!parsed.success) return badRequest(reply, formatIssues(parsed.error, 'break_pair'));
      const refused = await refusal(d.registry, rec, 'breakPair', {}, d.limits);
      if (refused) return refusedReply(reply, refused);
      const handle = await startBreakPair(d.temporal, { instanceId: rec.id, projectId: rec.projectId }, { requestId: requestIdOf(req), instanceName: rec.name });
      return reply.code(202).send({ operation: { id: handle.workflowId, type: 'breakPair' } });
    },

    async switch_active(req, reply, rec, body) {
      const parsed = switchActiveAction.safeParse(body ?? {});
      if (!parsed.success) return badRequest(reply, formatIssues(parsed.error, 'switch_active'));
      const refused = await refusal(d.registry, rec, 'switchPairActive', {}, d.limits);
      if (refused) return refusedReply(reply, refused);
      const handle = await startSwitchPairActive(d.temporal, { instanceId: rec.id, projectId: rec.projectId }, { requestId: requestIdOf(req), instanceName: rec.name });
      return reply.code(202).send({ operation: { id: handle.workflowId, type: 'switchPairActive' } });
    },
  };
}
