// enableReplicationTls: turns TLS on for a replication set that already replicates, without
// rebuilding or restarting it. Pre-flight (every member answers); the set's CA (made once,
// its key sealed in the registry); a certificate for every member (the key made on the
// member, the request signed by the orchestrator, MariaDB reloading it with FLUSH SSL); then
// each link re-pointed with TLS, verifying its source's certificate, from where it stood
// (GTID), and its account on the source made to require TLS; last, every replica caught up
// with its source over the new link, and the set recorded as TLS. Every step is idempotent:
// a run that failed half-way is repaired by running it again. There is no way back to plain
// replication (see README "TLS replication").
// With `renew` (a set already TLS), the same certificates step re-issues every member's
// certificate from the set's CA and reloads it; the links are left running, then checked.
import { ApplicationFailure, CancellationScope, workflowInfo } from '@temporalio/workflow';
import { ErrorType } from '../lib/errors';
import { enableReplicationTlsInput, type EnableReplicationTlsInput, type EnableReplicationTlsResult } from '../lib/schemas';
import { authority, beginOn, errorMessage, guestActivities, guestLong, guestProbe, operationFailure, parseInput, registry, tagOperation, tagReplicationSet, upstreamMember } from './common';
import { issueCertificate } from './certificates';
import { Progress } from './progress';

export async function enableReplicationTls(raw: EnableReplicationTlsInput): Promise<EnableReplicationTlsResult> {
  const input = parseInput(enableReplicationTlsInput, raw);
  const operationId = workflowInfo().workflowId;
  const progress = new Progress('enableReplicationTls', () => `set of ${input.instanceId}`);
  tagOperation(input.projectId, input.instanceId);

  const renew = input.renew === true;
  const view = (await beginOn('enableReplicationTls', input, progress, renew ? 'renew TLS certificates' : 'enable TLS')).set!;
  tagReplicationSet(view.setId);
  const members = [view.source, ...view.replicas];
  const links = view.replicas.map((replica) => ({ replica, source: upstreamMember(view, replica.id) }));
  try {
    // Checked by the API too; asked again under the lock (the set may have changed meanwhile).
    if (renew && !view.settings.tls) throw ApplicationFailure.nonRetryable('replication.tls.renew: the set does not replicate over TLS; turn it on with {"tls": true}', ErrorType.InvalidInput);
    progress.phase('pre-flight');
    const silent: string[] = [];
    await Promise.all(members.map((m) => guestProbe(m.novaServerId!).replicationStatus().catch(() => void silent.push(`${m.name} (${m.id})`))));
    if (silent.length) throw ApplicationFailure.nonRetryable(`pre-flight failed, nothing was changed: ${silent.sort().join('; ')} does not answer`, ErrorType.PreflightFailed);

    progress.phase('certificate authority');
    const ca = await authority.ensureSetAuthority({ setId: view.setId });

    progress.phase('issuing certificates');
    const certificates = await Promise.all(members.map((m) => issueCertificate(view.setId, { id: m.id, novaServerId: m.novaServerId! })));

    // Every member serves its certificate now, so any link can verify its source's. A link is
    // re-pointed before its account requires TLS: the account never refuses the link it carries.
    // A renewal leaves the links alone: a running link keeps its TLS session, and the next
    // connection (a reconnect, a client) is served the new certificate, verified by the same CA.
    if (!renew) progress.phase('re-pointing links with TLS');
    if (!renew) await Promise.all(
      links.map(async ({ replica, source }) => {
        const credential = await registry.replicationCredential({ replicaId: replica.id, sourceId: source.id });
        await guestActivities(replica.novaServerId!).startReplication({ source: { host: source.address!, port: source.port ?? 3306, ...credential, tls: true } });
        await guestActivities(source.novaServerId!).createReplicationUser({ ...credential, requireSsl: true });
      }),
    );

    progress.phase('checking every link');
    await Promise.all(
      links.map(async ({ replica, source }) => {
        const { gtidBinlogPos } = await guestActivities(source.novaServerId!).gtidPosition();
        await guestLong(replica.novaServerId!).waitForGtid({ gtid: gtidBinlogPos, timeoutSeconds: input.catchUpTimeoutSeconds });
      }),
    );
    if (!renew) await registry.updateSettings({ setId: view.setId, patch: { tls: true } });
    progress.phase('done');
    return {
      replicationSetId: view.setId,
      authorityCreated: ca.created,
      certificates: certificates.sort((a, b) => a.instanceId.localeCompare(b.instanceId)),
      renewed: renew,
      links: links.map(({ replica, source }) => ({ replicaId: replica.id, sourceId: source.id })),
    };
  } catch (err) {
    progress.fail(errorMessage(err));
    throw operationFailure(err, renew ? 'renew TLS certificates failed' : 'enable TLS failed', ErrorType.GuestFailed);
  } finally {
    await CancellationScope.nonCancellable(() => registry.endOperation({ operationId, setId: view.setId }));
  }
}
