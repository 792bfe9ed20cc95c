// Instance maintenance as Trove's API has it: the restart, resize (flavor or volume) and
// reset_status actions, and a rename (PATCH / PUT, handled with the detach form). What the
// operation would refuse is refused here first, by the same rule (lib/rules.ts).
import type { FastifyReply, FastifyRequest } from 'fastify';
import { startResizeInstance, startRestartInstance } from '../../lib/start';
import { formatIssues } from '../../lib/validation';
import type { InstanceRecord } from '../../registry';
import { refusedReply, sendError } from '../errors';
import { busyWith, placementProblems, refusal, requestIdOf } from '../lookup';
import { resetStatusAction, resizeAction, restartAction } from '../schemas';
import type { InstanceRouteDeps } from './instances';

type Req = FastifyRequest<{ Params: { project: string; id: string } }>;
export type InstanceAction = (req: Req, reply: FastifyReply, rec: InstanceRecord, body: unknown) => Promise<unknown>;

function badRequest(reply: FastifyReply, errors: string[]) {
  return sendError(reply, 400, `invalid request: ${errors.join('; ')}`, { errors });
}

export function instanceOps(d: InstanceRouteDeps) {
  const restart: InstanceAction = async (req, reply, rec, body) => {
    const parsed = restartAction.safeParse(body ?? {});
    if (!parsed.success) return badRequest(reply, formatIssues(parsed.error, 'restart'));
    const refused = await refusal(d.registry, rec, 'restartInstance', {}, d.limits);
    if (refused) return refusedReply(reply, refused);
    const handle = await startRestartInstance(d.temporal, { instanceId: rec.id, projectId: rec.projectId }, { requestId: requestIdOf(req), instanceName: rec.name });
    return reply.code(202).send({ operation: { id: handle.workflowId, type: 'restartInstance' } });
  };

  const resize: InstanceAction = async (req, reply, rec, body) => {
    const parsed = resizeAction.safeParse(body);
    if (!parsed.success) return badRequest(reply, formatIssues(parsed.error, 'resize'));
    const r = { flavorId: parsed.data.flavorRef, volumeSize: parsed.data.volume?.size };
    const refused = await refusal(d.registry, rec, 'resizeInstance', { resize: r }, d.limits, { flavor: 'resize.flavorRef', volume: 'resize.volume.size' });
    if (refused) return refusedReply(reply, refused);
    const problems = await placementProblems(d.nova, { flavorId: r.flavorId }, { flavor: 'resize.flavorRef', zone: 'resize.availability_zone' });
    if (problems.length) return badRequest(reply, problems);
    const handle = await startResizeInstance(
      d.temporal,
      { instanceId: rec.id, projectId: rec.projectId, ...(r.flavorId !== undefined ? { flavorId: r.flavorId } : { volumeSizeGb: r.volumeSize }) },
      { requestId: requestIdOf(req), instanceName: rec.name },
    );
    return reply.code(202).send({ operation: { id: handle.workflowId, type: 'resizeInstance' } });
  };

  /**
   * Trove's reset_status clears a task left behind by a crashed task manager. Here no lock
   * outlives its operation (each releases its locks however it ends), so there is nothing to
   * reset: 202 and no change when nothing runs (so `force delete`, which resets then deletes,
   * works), 409 naming the operation when one does: wait for it, or cancel it.
   */
  const resetStatus: InstanceAction = async (_req, reply, rec, body) => {
    const parsed = resetStatusAction.safeParse(body ?? {});
    if (!parsed.success) return badRequest(reply, formatIssues(parsed.error, 'reset_status'));
    const busy = await busyWith(d.registry, rec);
    if (busy) return sendError(reply, 409, `${busy.message}; its locks go when it ends (wait for it, or cancel it): there is no stale status to reset`, { operation: busy.operation });
    return reply.code(202).send();
  };

  /** Trove renames at once, without a task; names need not be unique (a lookup by a shared name is refused as ambiguous). */
  async function rename(rec: InstanceRecord, name: string): Promise<void> {
    await d.registry.instances.update(rec.id, { name });
  }

  const actions: Record<string, InstanceAction> = { restart, resize, reset_status: resetStatus };
  return { actions, rename };
}
