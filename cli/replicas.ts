// What `create --replica_of` and `replicate` do with the API's 202: both routes answer the
// same body, so the summary and the --wait over several replicas live here, once.
import type { InstanceView, ReplicasAnswer } from './api-client';
import { CliFailure, type CliContext } from './context';
import { flattenView, json, listTable, propertyTable } from './format';
import { waitForInstance } from './wait';

export interface ReplicaOutputOptions {
  wait?: boolean;
  timeout: number;
  json?: boolean;
}

/** A replica is done when ACTIVE and its build/attach operation is gone (ACTIVE alone can come first). */
const settled = (v: InstanceView) => v.status === 'ACTIVE' && !v.operation;

/**
 * Polls every replica at once (they build in parallel) and fails on the first ERROR or
 * disappearance; the other polls are then stopped so nothing keeps running behind the exit.
 */
export async function waitForReplicas(ctx: CliContext, replicas: InstanceView[], timeoutSeconds: number): Promise<InstanceView[]> {
  const abort = new AbortController();
  // One replica logs like create --wait; several prefix each line with the replica's name.
  const many = replicas.length > 1;
  let failure: string | undefined;
  const finals = await Promise.all(
    replicas.map(async (initial) => {
      try {
        const result = await waitForInstance({
          api: ctx.api(),
          id: initial.id,
          until: settled,
          intervalMs: ctx.pollIntervalMs,
          timeoutMs: timeoutSeconds * 1000,
          log: many ? (line) => ctx.err(`${initial.name}: ${line}`) : ctx.err,
          initial,
          signal: abort.signal,
        });
        if (result.ok) return result.instance!;
        // The first failure is the cause; the ones after it are only the aborted siblings.
        failure ??= `replica ${initial.name}: ${result.message}`;
      } catch (err) {
        abort.abort();
        throw err;
      }
      abort.abort();
      return undefined;
    }),
  );
  if (failure !== undefined) throw new CliFailure(failure);
  return finals as InstanceView[];
}

export async function finishReplicas(ctx: CliContext, answer: ReplicasAnswer, opts: ReplicaOutputOptions): Promise<void> {
  // Older answers carry only `instance`; it is then the one replica.
  const replicas = answer.replicas?.length ? answer.replicas : [answer.instance];
  if (opts.wait) {
    const finals = await waitForReplicas(ctx, replicas, opts.timeout);
    if (opts.json) return ctx.out(json(finals));
    for (const v of finals) ctx.out(propertyTable(flattenView(v)));
    return;
  }
  if (opts.json) return ctx.out(json(answer));
  ctx.out(listTable(['ID', 'Name', 'Status'], replicas.map((v) => [v.id, v.name, v.status])));
  if (answer.operation) ctx.out(`Operation: ${answer.operation.id} (${answer.operation.type ?? 'unknown'})`);
}
