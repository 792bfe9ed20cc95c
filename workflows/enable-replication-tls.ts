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
// With `rotateCa` (a set already TLS), the set gets a new CA in three reloads, links running
// throughout: every member trusts the old and the new CA; every member gets a certificate
// from the new CA (so any reconnect verifies, whichever end moved first); the new CA becomes
// the set's and every member trusts it alone. A running link keeps its TLS session; the
// next connection is verified with the new CA. In a master-master pair both directions are
// links: turning TLS on re-points the reverse one too.
import { ApplicationFailure, CancellationScope, workflowInfo } from '@temporalio/workflow';
import { caBundle } from '../lib/ca-bundle';
import { ErrorType } from '../lib/errors';
import { stillToApply } from '../lib/gtid';
import { enableReplicationTlsInput, type EnableReplicationTlsInput, type EnableReplicationTlsResult } from '../lib/schemas';
import { authority, beginOn, errorMessage, guestActivities, guestLong, guestProbe, operationFailure, parseInput, registry, tagOperation, tagReplicationSet, upstreamMember } from './common';
import { issueCertificate } from './certificates';
import { upstreamOf } from '../lib/topology';
import { Progress } from './progress';

export async function enableReplicationTls(raw: EnableReplicationTlsInput): Promise<EnableReplicationTlsResult> {
  const input = parseInput(enableReplicationTlsInput, raw);
  const operationId = workflowInfo().workflowId;
  const progress = new Progress('enableReplicationTls', () => `set of ${input.instanceId}`);
  tagOperation(input.projectId, input.instanceId);

  const rotate = input.rotateCa === true;
  const renew = input.renew === true || rotate;
  const view = (await beginOn('enableReplicationTls', input, progress, rotate ? 'rotate the TLS CA' : renew ? 'renew TLS certificates' : 'enable TLS')).set!;
  tagReplicationSet(view.setId);
  const members = [view.source, ...view.replicas];
  // Every member with a source is a link, a pair's active side (which replicates from the passive) included.
  const links = members.filter((m) => upstreamOf(view.topology, m.id) !== null).map((replica) => ({ replica, source: upstreamMember(view, replica.id) }));
  try {
    // Checked by the API too; asked again under the lock (the set may have changed meanwhile).
    if (renew && !view.settings.tls) {
      throw ApplicationFailure.nonRetryable(`replication.tls.${rotate ? 'rotate_ca' : 'renew'}: the set does not replicate over TLS; turn it on with {"tls": true}`, ErrorType.InvalidInput);
    }
    progress.phase('pre-flight');
    const silent: string[] = [];
    await Promise.all(members.map((m) => guestProbe(m.novaServerId!).replicationStatus().catch(() => void silent.push(`${m.name} (${m.id})`))));
    if (silent.length) throw ApplicationFailure.nonRetryable(`pre-flight failed, nothing was changed: ${silent.sort().join('; ')} does not answer`, ErrorType.PreflightFailed);

    progress.phase('certificate authority');
    const ca = await authority.ensureSetAuthority({ setId: view.setId });
    const next = rotate ? await authority.beginCaRotation({ setId: view.setId }) : undefined;
    if (next) {
      // Before any member serves a certificate from the new CA, every member trusts it.
      progress.phase('trusting the old and the new CA');
      await Promise.all(members.map((m) => guestActivities(m.novaServerId!).installTrust({ caCertificatePem: caBundle(next.caCertificatePem, next.previousCaCertificatePem) })));
    }

    progress.phase(next ? 'issuing certificates from the new CA' : 'issuing certificates');
    const certificates = await Promise.all(members.map((m) => issueCertificate(view.setId, { id: m.id, novaServerId: m.novaServerId! }, Boolean(next))));

    if (next) {
      // Every member serves a certificate from the new CA: the old one is no longer needed.
      progress.phase('dropping the old CA');
      await authority.completeCaRotation({ setId: view.setId, caCertificatePem: next.caCertificatePem });
      await Promise.all(members.map((m) => guestActivities(m.novaServerId!).installTrust({ caCertificatePem: next.caCertificatePem })));
    }

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
        // A pair's side never applies its own writes back: it waits only for the other side's.
        const missing = view.topology.coMasters?.includes(replica.id) ? stillToApply(gtidBinlogPos, (await guestActivities(replica.novaServerId!).gtidPosition()).gtidBinlogPos) : gtidBinlogPos;
        if (missing) await guestLong(replica.novaServerId!).waitForGtid({ gtid: missing, timeoutSeconds: input.catchUpTimeoutSeconds });
      }),
    );
    if (!renew) await registry.updateSettings({ setId: view.setId, patch: { tls: true } });
    progress.phase('done');
    return {
      replicationSetId: view.setId,
      authorityCreated: ca.created,
      certificates: certificates.sort((a, b) => a.instanceId.localeCompare(b.instanceId)),
      renewed: renew,
      ...(next ? { rotatedCa: { caCertificatePem: next.caCertificatePem, previousCaCertificatePem: next.previousCaCertificatePem, created: next.created } } : {}),
      links: links.map(({ replica, source }) => ({ replicaId: replica.id, sourceId: source.id })),
    };
  } catch (err) {
    progress.fail(errorMessage(err));
    throw operationFailure(err, rotate ? 'rotate the TLS CA failed' : renew ? 'renew TLS certificates failed' : 'enable TLS failed', ErrorType.GuestFailed);
  } finally {
    await CancellationScope.nonCancellable(() => registry.endOperation({ operationId, setId: view.setId }));
  }
}
