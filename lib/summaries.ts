// What each operation says about itself in the Temporal Web UI: a one-line summary (the
// list and the workflow's page) and details (its page), fixed at start. Pure, so that the
// client helpers, the monitor's starter and workflows starting children share one copy.
// Built from named fields only, never from a whole input: inputs carry sealed passwords.
import type { AccessAction, ManageAccessInput } from './access';
import type { BreakPairInput, BuildReplicaInput, CreateBackupInput, CreatePairInput, CreateReplicasInput, DeleteBackupInput, DeleteInstanceInput, DetachReplicaInput, DisableDrInput, EjectInput, EnableDrInput, EnableReplicationTlsInput, MonitorInput, PromoteInput, ProvisionInstanceInput, RebuildAfterZoneReturnInput, RebuildAsReplicaInput, RecoverDeadRelayInput, ResizeInstanceInput, RestartInstanceInput, SwitchPairInput, WatchSetInput } from './schemas';

export interface OperationMetadata {
  staticSummary: string;
  staticDetails: string;
}

/** Names the caller knows and the input does not carry (inputs hold ids). */
export interface KnownNames {
  /** The instance the operation is about (the source, for createReplicas). */
  name?: string;
  /** The source a replica is built from. */
  sourceName?: string;
}

interface Inputs {
  provisionInstance: ProvisionInstanceInput;
  deleteInstance: DeleteInstanceInput;
  createReplicas: CreateReplicasInput;
  buildReplica: BuildReplicaInput;
  detachReplica: DetachReplicaInput;
  promoteToReplicaSource: PromoteInput;
  ejectReplicaSource: EjectInput;
  monitorReplicationSet: MonitorInput;
  watchReplicationSet: WatchSetInput;
  manageAccess: ManageAccessInput;
  restartInstance: RestartInstanceInput;
  resizeInstance: ResizeInstanceInput;
  recoverDeadRelay: RecoverDeadRelayInput;
  enableReplicationTls: EnableReplicationTlsInput;
  rebuildAsReplica: RebuildAsReplicaInput;
  createBackup: CreateBackupInput;
  deleteBackup: DeleteBackupInput;
  enableDr: EnableDrInput;
  disableDr: DisableDrInput;
  rebuildAfterZoneReturn: RebuildAfterZoneReturnInput;
  createPair: CreatePairInput;
  switchPairActive: SwitchPairInput;
  failOverPair: EjectInput;
  breakPair: BreakPairInput;
}
export type DescribedOperation = keyof Inputs;

/** An instance as a person reads it: its name, or the start of its id (the details carry all of it). */
const ref = (id: string, name?: string): string => `\`${name ?? id.slice(0, 8)}\``;
const idLine = (what: string, id: string, name?: string) => `- ${what}: ${name ? `\`${name}\` ` : ''}\`${id}\``;

function details(what: string, facts: (string | false | 0 | undefined)[]): string {
  return [what, '', ...facts.filter((f): f is string => Boolean(f))].join('\n');
}

const describers: { [T in DescribedOperation]: (input: Inputs[T], known: KnownNames) => OperationMetadata } = {
  provisionInstance: (i) => ({
    staticSummary: `Provision instance ${ref(i.instanceId, i.name)} · project ${i.projectId}`,
    staticDetails: details(
      'Records the instance, creates its Nova server, has the guest agent start MariaDB with the databases and users asked for, and marks it ACTIVE. A failure deletes the server and leaves the instance in ERROR.',
      [
        idLine('instance', i.instanceId, i.name),
        `- project: ${i.projectId}`,
        `- flavor ${i.flavorId}, volume ${i.volumeSizeGb} GB${i.availabilityZone ? `, zone ${i.availabilityZone}` : ''}`,
        i.restoreBackupId && `- from backup \`${i.restoreBackupId}\` (its databases and users)`,
        i.databases?.length && `- databases: ${i.databases.join(', ')}`,
        // Names only: each user's password is sealed and stays out of the Web UI.
        i.users?.length && `- users: ${i.users.map((u) => u.name).join(', ')}`,
      ],
    ),
  }),
  deleteInstance: (i, k) => ({
    staticSummary: `Delete instance ${ref(i.instanceId, k.name)} · project ${i.projectId}`,
    staticDetails: details('Deletes the Nova server (its processes and disk) and the record; a replica leaves its replication set and its account on the source.', [
      idLine('instance', i.instanceId, k.name),
      `- project: ${i.projectId}`,
    ]),
  }),
  createReplicas: (i, k) => ({
    staticSummary: `Create ${i.count} read replica${i.count === 1 ? '' : 's'} of ${ref(i.sourceInstanceId, k.name)} · project ${i.projectId}`,
    staticDetails: details(
      'Snapshots the source once, builds every replica from that snapshot in parallel (one buildReplica child each), then deletes the snapshot. A replica that fails cleans up after itself; the others stay.',
      [
        idLine('source', i.sourceInstanceId, k.name),
        `- project: ${i.projectId}`,
        `- replicas: ${i.count}${i.readOnly === false ? ', writable' : ', read-only'}`,
        i.template?.flavorId && `- flavor ${i.template.flavorId}`,
        i.template?.volumeSizeGb && `- volume ${i.template.volumeSizeGb} GB`,
        i.template?.availabilityZone && `- zone ${i.template.availabilityZone}`,
        ...(i.replicaIds ?? []).map((id, n) => `- replica ${n + 1}: \`${id}\``),
      ],
    ),
  }),
  buildReplica: (i, k) => ({
    staticSummary: `Build replica ${ref(i.replicaId, i.name)} of ${ref(i.source.instanceId, k.sourceName)} · project ${i.projectId}`,
    staticDetails: details(
      'Creates the server, restores the shared snapshot, creates its replication account on the source, replicates from the snapshot\'s position and waits until caught up. A failure undoes all of it.',
      [
        idLine('replica', i.replicaId, i.name),
        idLine('source', i.source.instanceId, k.sourceName),
        `- project: ${i.projectId}`,
        `- replication set: \`${i.setId}\``,
        `- snapshot: \`${i.snapshotId}\``,
        `- flavor ${i.flavorId}, volume ${i.volumeSizeGb} GB${i.availabilityZone ? `, zone ${i.availabilityZone}` : ''}, ${i.readOnly ? 'read-only' : 'writable'}`,
      ],
    ),
  }),
  detachReplica: (i, k) => ({
    staticSummary: `Detach replica ${ref(i.instanceId, k.name)} from its source · project ${i.projectId}`,
    staticDetails: details('Stops replication for good, makes the instance writable, drops its account on the source and takes it out of the replication set.', [
      idLine('instance', i.instanceId, k.name),
      `- project: ${i.projectId}`,
    ]),
  }),
  promoteToReplicaSource: (i, k) => ({
    staticSummary: `Promote ${ref(i.instanceId, k.name)} to replica source (switchover) · project ${i.projectId}`,
    staticDetails: details(
      'Fences writes on the current source, waits until this replica has applied everything, makes it the writable source and moves the other members (the former source included) under it.',
      [idLine('new source', i.instanceId, k.name), `- project: ${i.projectId}`, `- catch-up timeout: ${i.catchUpTimeoutSeconds ?? 30} s`],
    ),
  }),
  createPair: (i, k) => ({
    staticSummary: `Make a master-master pair of ${ref(i.instanceId, k.name)} · project ${i.projectId}`,
    staticDetails: details(
      "Builds the second master as a read-only replica from one snapshot (createReplicas, in the source's zone and server group), gives each side a GTID domain of its own, has the source replicate back from it, and records the pair. The source stays the active (writable) side.",
      [idLine('active side', i.instanceId, k.name), idLine('passive side', i.peerId, i.name), `- project: ${i.projectId}`],
    ),
  }),
  switchPairActive: (i, k) => ({
    staticSummary: `Switch the active side of a pair to ${ref(i.instanceId, k.name)} · project ${i.projectId}`,
    staticDetails: details(
      'Fences writes on the active side, waits until this side has applied everything (MASTER_GTID_WAIT), opens it, records the switch and moves the replicas of the old active side under it. Never are both sides writable.',
      [idLine('new active side', i.instanceId, k.name), `- project: ${i.projectId}`, `- catch-up timeout: ${i.catchUpTimeoutSeconds ?? 30} s`],
    ),
  }),
  breakPair: (i, k) => ({
    staticSummary: `Break the master-master pair of ${ref(i.instanceId, k.name)} · project ${i.projectId}`,
    staticDetails: details(
      "The active side stops replicating from the passive one and keeps taking writes; the passive side stays its read-only replica; the active side's account on the passive side is dropped.",
      [idLine('side asked', i.instanceId, k.name), `- project: ${i.projectId}`],
    ),
  }),
  failOverPair: (i, k) => ({
    staticSummary: `Fail over the pair of ${ref(i.instanceId, k.name)}${i.automatic ? ' (automatic)' : ''} · project ${i.projectId}`,
    staticDetails: details(
      "Refused while the active side is healthy unless forced. Fences the active side through Nova, lets the pair's other side apply its relay log and take writes, moves the dead side's replicas to it; the dead side leaves the set in ERROR.",
      [idLine('active side', i.instanceId, k.name), `- project: ${i.projectId}`, `- force: ${i.force ?? false}`, `- automatic: ${i.automatic ?? false}`],
    ),
  }),
  enableReplicationTls: (i, k) => ({
    staticSummary: `${i.rotateCa ? 'Rotate the TLS certificate authority of' : i.renew ? 'Renew the TLS certificates of' : 'Turn TLS replication on for'} the set of ${ref(i.instanceId, k.name)} · project ${i.projectId}`,
    staticDetails: details(
      i.rotateCa
        ? "Makes a new certificate authority for the set; every member trusts the old and the new one, gets a certificate from the new one, then trusts it alone (each step reloaded with FLUSH LOCAL SSL: no restart, no link re-pointed)."
        : i.renew
        ? "Re-issues every member's server certificate from the set's certificate authority (a new request on each member, with the key it keeps) and reloads it with FLUSH LOCAL SSL: no restart, no link re-pointed."
        : "Makes the set's certificate authority, has every member's guest request a certificate (its key stays on its server) and installs the signed one (FLUSH SSL, no restart), re-points every link with TLS verifying its source's certificate (both directions of a master-master pair), and makes every replication account require TLS.",
      [idLine('member asked', i.instanceId, k.name), `- project: ${i.projectId}`],
    ),
  }),
  createBackup: (i, k) => ({
    staticSummary: `Back up ${ref(i.instanceId, k.name)} as backup ${ref(i.backupId)} · project ${i.projectId}`,
    staticDetails: details('Takes a snapshot of the instance (mariadb-backup, streamed into the snapshot store) and keeps it there as the backup until the backup is deleted.', [
      idLine('instance', i.instanceId, k.name),
      idLine('backup', i.backupId),
      `- project: ${i.projectId}`,
    ]),
  }),
  deleteBackup: (i) => ({
    staticSummary: `Delete backup ${ref(i.backupId)} · project ${i.projectId}`,
    staticDetails: details("Deletes the backup's snapshot from the snapshot store, then its record.", [idLine('backup', i.backupId), `- project: ${i.projectId}`]),
  }),
  rebuildAsReplica: (i, k) => ({
    staticSummary: i.pair
      ? `Rejoin ${ref(i.instanceId, k.name)} as the passive side of a pair with its set's source · project ${i.projectId}`
      : `Rebuild former source ${ref(i.instanceId, k.name)} as a replica of its set's source · project ${i.projectId}`,
    staticDetails: details(
      "Powers the fenced former source on read-only, reports the transactions it had that the set's source lacks (errant GTIDs, in the current details, the result and the instance's show) before discarding them, then restores a fresh snapshot of the source on it and has it replicate from the source; to rejoin a pair, it then becomes the pair's passive side (own GTID domain, replication both ways).",
      [idLine('former source', i.instanceId, k.name), `- project: ${i.projectId}`, `- catch-up timeout: ${i.catchUpTimeoutSeconds ?? 120} s`],
    ),
  }),
  rebuildAfterZoneReturn: (i) => ({
    staticSummary: `Rebuild the master side once zone ${i.zone} is back: ${i.instanceIds.map((id) => ref(id)).join(', ')} · project ${i.projectId}`,
    staticDetails: details(
      "A zone profile's auto_rebuild, started by the failover that lost the zone: polls Nova until it reports the zone available again, then rebuilds each fenced member as a replica of the set's source (rebuild-as-replica, with its errant-GTID report), the former source first.",
      [`- zone: ${i.zone}`, ...i.instanceIds.map((id) => idLine('fenced member', id)), `- project: ${i.projectId}`, `- poll: every ${i.pollSeconds ?? 10} s`],
    ),
  }),
  disableDr: (i, k) => ({
    staticSummary: `Disable DR for ${ref(i.instanceId, k.name)} (zone profile ${i.profile}) · project ${i.projectId}`,
    staticDetails: details(
      'Deletes the DR replicas (deleteInstance each), then the replication set stops following the zone profile; semi-sync and automatic failover go with it when no replica stays. A failure half way leaves the profile on the set: dr-disable again finishes.',
      [idLine('source', i.instanceId, k.name), `- project: ${i.projectId}`, `- zone profile: ${i.profile}`, ...i.remove.map((id) => idLine('DR replica', id))],
    ),
  }),
  enableDr: (i, k) => ({
    staticSummary: `${i.provision ? 'Create' : 'Enable DR for'} ${ref(i.instanceId, i.provision?.name ?? k.name)} with zone profile ${i.profile} · project ${i.projectId}`,
    staticDetails: details(
      `${i.provision ? "Provisions the instance in the profile's primary zone, then builds" : 'Builds'} its DR replica in the profile's first DR zone from one snapshot (createReplicas), and records the profile on the replication set with its semi-sync and automatic failover settings.`,
      [idLine('source', i.instanceId, i.provision?.name ?? k.name), `- project: ${i.projectId}`, `- zone profile: ${i.profile}`, i.replicaId && `- DR replica: \`${i.replicaId}\``],
    ),
  }),
  ejectReplicaSource: (i, k) => ({
    staticSummary: `${i.automatic ? 'Automatic failover' : 'Eject'}: replace source ${ref(i.instanceId, k.name)} · project ${i.projectId}`,
    staticDetails: details(
      'Fences the source, promotes the replica that received the most of its transactions, and moves the other replicas under it. The ejected source is kept, out of the set.',
      [
        idLine('ejected source', i.instanceId, k.name),
        `- project: ${i.projectId}`,
        `- started ${i.automatic ? 'by the replication set\'s monitor' : 'on request'}${i.force ? ', forced (the source looked healthy)' : ''}`,
      ],
    ),
  }),
  monitorReplicationSet: (i) => ({
    staticSummary: `Monitor replication set ${ref(i.setId)} · project ${i.projectId}`,
    staticDetails: details(
      'Looks at every member each poll, records its health, keeps semi-sync roles as the set\'s settings ask, and starts a failover (ejectReplicaSource) when automatic failover is on and the source is gone. Runs as long as the set has replicas.',
      [`- replication set: \`${i.setId}\``, `- project: ${i.projectId}`, `- poll: every ${i.pollSeconds ?? 1} s`],
    ),
  }),
  watchReplicationSet: (i) => ({
    staticSummary: `Monitor replication set ${ref(i.setId)} · project ${i.projectId}`,
    staticDetails: details(
      "Watches every member inside one long-running activity (its polls are heartbeats, not history), records health when it changes, and acts only when it must: a failover (ejectReplicaSource) when automatic failover is on and the source is gone, a dead relay's recovery, members' monitoring accounts and semi-sync roles, the hourly checkpoint. Runs as long as the set has replicas.",
      [`- replication set: \`${i.setId}\``, `- project: ${i.projectId}`, `- poll: every ${i.pollSeconds ?? 1} s`],
    ),
  }),
  manageAccess: (i, k) => ({
    staticSummary: `Users and databases of ${ref(i.instanceId, k.name)}: ${accessRequest(i.action)} · project ${i.projectId}`,
    staticDetails: details('One request of the databases and users API, done by the instance\'s guest agent; a change takes the instance\'s lock and checks the server first.', [
      idLine('instance', i.instanceId, k.name),
      `- project: ${i.projectId}`,
      `- request: ${accessRequest(i.action)}`,
    ]),
  }),
  restartInstance: (i, k) => ({
    staticSummary: `Restart the database of ${ref(i.instanceId, k.name)} · project ${i.projectId}`,
    staticDetails: details('Restarts MariaDB on the instance\'s server (the server stays up), waits until it answers and its replicas replicate again.', [
      idLine('instance', i.instanceId, k.name),
      `- project: ${i.projectId}`,
    ]),
  }),
  resizeInstance: (i, k) => ({
    staticSummary: `Resize ${ref(i.instanceId, k.name)}: ${i.flavorId ? `flavor ${i.flavorId}` : `volume ${i.volumeSizeGb} GB`} · project ${i.projectId}`,
    staticDetails: details(
      i.flavorId
        ? 'Resizes the Nova server to the new flavor (MariaDB restarts with its memory), confirms it, and records it; a failed resize is reverted.'
        : 'Grows the data volume (and a source\'s smaller replicas with it) and records the new size.',
      [idLine('instance', i.instanceId, k.name), `- project: ${i.projectId}`, i.flavorId ? `- new flavor: ${i.flavorId}` : `- new volume: ${i.volumeSizeGb} GB`],
    ),
  }),
  recoverDeadRelay: (i, k) => ({
    staticSummary: `Recover dead relay ${ref(i.instanceId, k.name)}: move its replicas up · project ${i.projectId}`,
    staticDetails: details(
      "Started by the replication set's monitor: the relay (a replica with replicas) is gone on holistic evidence. Looks again under the set's lock, then moves its replicas to the nearest live member above it by GTID; the relay stays in the set and replicates again when its server is back.",
      [idLine('relay', i.instanceId, k.name), `- project: ${i.projectId}`],
    ),
  }),
};

/** One users-API request in words; account names only (passwords are sealed and stay out). */
function accessRequest(a: AccessAction): string {
  const who = (u: { name: string; host: string }) => `\`${u.name}@${u.host}\``;
  switch (a.kind) {
    case 'listDatabases':
      return 'list databases';
    case 'listUsers':
      return 'list users';
    case 'showUser':
      return `show user ${who(a.user)}`;
    case 'showAccess':
      return `show the databases of ${who(a.user)}`;
    case 'createDatabases':
      return `create database${a.databases.length === 1 ? '' : 's'} ${a.databases.map((d) => `\`${d.name}\``).join(', ')}`;
    case 'deleteDatabase':
      return `drop database \`${a.name}\``;
    case 'createUsers':
      return `create user${a.users.length === 1 ? '' : 's'} ${a.users.map((u) => who({ name: u.name, host: u.host ?? '%' })).join(', ')}`;
    case 'deleteUser':
      return `drop user ${who(a.user)}`;
    case 'grantAccess':
      return `grant ${who(a.user)} ${a.databases.map((d) => `\`${d}\``).join(', ')}`;
    case 'revokeAccess':
      return `revoke \`${a.database}\` from ${who(a.user)}`;
    case 'changePasswords':
      return `change the password of ${a.users.map(who).join(', ')}`;
    case 'updateUser':
      return `change ${who(a.user)}${a.newName ? `: name ${a.newName}` : ''}${a.newHost ? `: host ${a.newHost}` : ''}${a.sealedPassword ? ': password' : ''}`;
  }
}


export function operationMetadata<T extends DescribedOperation>(type: T, input: Inputs[T], known: KnownNames = {}): OperationMetadata {
  return describers[type](input, known);
}
