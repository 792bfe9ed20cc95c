// The Trove InstanceDetailView shape, built from a registry record.
import type { MemberHealth } from '../lib/schemas';
import { shownStatus, type LockScope } from '../lib/status';
import { roleOf, upstreamOf, type Topology } from '../lib/topology';
import { linkTls, linkTlsProblem } from '../lib/link-tls';
import type { ErrantReport, InstanceRecord, ServerCertificate } from '../registry';

export interface OperationView {
  id: string;
  type: string | null;
  phase?: string;
  /** A building replica's live progress, from its running activity's last heartbeat. */
  restored_bytes?: number;
  seconds_behind?: number | null;
  transactions_behind?: number;
}

const ref = (baseUrl: string, projectId: string, id: string) => ({ id, links: [{ rel: 'self', href: `${baseUrl}/v1.0/${projectId}/instances/${id}` }] });

/** The seed spec's topology section: the set's members, each with its role and what it replicates from. */
export function topologyView(t: Topology, members: InstanceRecord[]) {
  return {
    members: members.map((m) => {
      const from = upstreamOf(t, m.id);
      return { id: m.id, name: m.name, role: roleOf(t, m.id), availability_zone: m.availabilityZone, ...(from ? { mysql: { slave_of: [{ id: from }], read_only: m.readOnly } } : {}) };
    }),
  };
}

/**
 * The instance's place in replication, from its own record (so a list needs no topology):
 * a side of a master-master pair replicates from the member it replicates to, and is the
 * pair's active side when it takes writes.
 */
export function recordRole(r: Pick<InstanceRecord, 'replicaOf' | 'replicas' | 'readOnly' | 'replicationSetId'>): 'standalone' | 'source' | 'replica' | 'relay' | 'active' | 'passive' {
  if (r.replicaOf && r.replicas.includes(r.replicaOf)) return r.readOnly ? 'passive' : 'active';
  if (r.replicaOf) return r.replicas.length ? 'relay' : 'replica';
  return r.replicas.length || r.replicationSetId ? 'source' : 'standalone';
}

/**
 * A master-master pair as `show` presents it: which side takes writes, and each direction of
 * replication with its lag as the set's monitor last saw it (the lag of a link is its
 * replica's: seconds and transactions behind the side it replicates from).
 */
export function pairView(t: Topology, members: InstanceRecord[], health: MemberHealth[]) {
  if (!t.coMasters) return undefined;
  const active = t.coMasters.find((id) => t.members.find((m) => m.id === id)?.writable);
  const passive = t.coMasters.find((id) => id !== active);
  const name = (id: string | undefined) => members.find((m) => m.id === id)?.name ?? null;
  const link = (from: string | undefined, to: string | undefined) => {
    const h = health.find((x) => x.instanceId === to);
    return { from: from ?? null, to: to ?? null, io_running: h?.ioRunning ?? null, sql_running: h?.sqlRunning ?? null, seconds_behind: h?.secondsBehind ?? null, transactions_behind: h?.transactionsBehind ?? null, observed: h?.observedAt ?? null };
  };
  return {
    active: { id: active ?? null, name: name(active) },
    passive: { id: passive ?? null, name: name(passive) },
    replication: [link(active, passive), link(passive, active)],
  };
}

/** Trove's fault: what the last operation that failed after its 202 said, and when. */
export function faultView(r: Pick<InstanceRecord, 'fault' | 'faultAt' | 'updated'>) {
  // Faults recorded before fault_at existed carry the record's last change instead.
  return { message: r.fault, created: (r.faultAt ?? r.updated).toISOString() };
}

/**
 * running: the operation running on the instance (scope 'instance', the default) or on its
 * replication set (scope 'set'); its task name is the status shown while it runs.
 */
export function instanceView(r: InstanceRecord, baseUrl: string, running?: OperationView & { scope?: LockScope }, set?: { topology: Topology; members: InstanceRecord[] }) {
  const self = `${baseUrl}/v1.0/${r.projectId}/instances/${r.id}`;
  const { scope = 'instance', ...operation } = running ?? {};
  return {
    id: r.id,
    name: r.name,
    status: shownStatus(r.status, running && { type: running.type, scope }),
    flavor: { id: r.flavorId, links: [{ rel: 'self', href: `${baseUrl}/v1.0/${r.projectId}/flavors/${r.flavorId}` }] },
    volume: { size: r.volumeSize },
    datastore: { type: r.datastore, version: r.datastoreVersion, version_number: r.datastoreVersion },
    // Trove's form (what python-troveclient lists); `ip` is the older one, kept.
    addresses: r.address ? [{ address: r.address, type: 'private' }] : [],
    ip: r.address ? [r.address] : [],
    port: r.port,
    availability_zone: r.availabilityZone,
    // Trove's locality: the policy of the server group the instance's set shares.
    ...(r.locality ? { locality: r.locality } : {}),
    // Servers have only a private address (see the create body's access rules).
    access: { is_public: false },
    created: r.created.toISOString(),
    updated: r.updated.toISOString(),
    links: [{ rel: 'self', href: self }],
    ...(r.replicaOf ? { replica_of: ref(baseUrl, r.projectId, r.replicaOf) } : {}),
    ...(r.replicas.length ? { replicas: r.replicas.map((id) => ref(baseUrl, r.projectId, id)) } : {}),
    // The replication contract: where data comes from, where it goes, who takes writes.
    replicates_from: r.replicaOf ? [r.replicaOf] : [],
    replicates_to: r.replicas,
    writable: !r.readOnly && r.status === 'ACTIVE',
    role: recordRole(r),
    ...(set ? { topology: topologyView(set.topology, set.members) } : {}),
    ...(r.fault ? { fault: faultView(r) } : {}),
    // A fenced former source names the member that replaced it (rebuild_as_replica rejoins that set).
    ...(r.replacedBy ? { replaced_by: ref(baseUrl, r.projectId, r.replacedBy) } : {}),
    // What its last rebuild as a replica found it had that the set lacked, before discarding it.
    ...(r.errantGtids ? { errant_gtids: errantView(r.errantGtids) } : {}),
    ...(running ? { operation } : {}),
  };
}

export function errantView(e: ErrantReport) {
  return { gtids: e.gtids, former_state: e.formerState, source_state: e.sourceState, source_id: e.sourceId, operation: e.operationId, recorded: e.recorded };
}

/**
 * A TLS set member's TLS: every member serves a certificate from the set's CA naming its
 * address, so a client verifies the server it reaches with this CA (`ssl: { ca }`).
 */
export function tlsView(caCertificatePem: string, certificates: ServerCertificate[] = []) {
  return {
    enabled: true,
    ca_certificate: caCertificatePem,
    // Each member's server certificate: when it expires (renew with PATCH .../replication {"replication": {"tls": {"renew": true}}}).
    certificates: certificates.map((c) => ({ instance_id: c.instanceId, serial: c.serial, expires: c.notAfter.toISOString(), issued: c.issued.toISOString() })),
  };
}

/**
 * Every member's replication health as the set's monitor last observed it; with the set, each
 * member's zone and, for a replica, its source's zone: the lag it shows is across zones when
 * they differ (a DR replica's).
 */
export function healthView(health: MemberHealth[], set?: { topology: Topology; members: InstanceRecord[] }, setTls = false) {
  const zoneOf = (id: string | undefined) => set?.members.find((m) => m.id === id)?.availabilityZone ?? null;
  return health.map((h) => ({
    id: h.instanceId,
    name: h.name,
    role: h.role,
    ...(set
      ? (() => {
          const upstream = upstreamOf(set.topology, h.instanceId);
          const zone = zoneOf(h.instanceId);
          return { availability_zone: zone, ...(upstream ? { source_zone: zoneOf(upstream), across_zones: zone !== zoneOf(upstream) } : {}) };
        })()
      : {}),
    reachable: h.reachable,
    agent_answered: h.agentAnswered,
    io_running: h.ioRunning,
    sql_running: h.sqlRunning,
    seconds_behind: h.secondsBehind,
    transactions_behind: h.transactionsBehind,
    gtid_executed: h.gtidSlavePos,
    gtid_received: h.gtidIoPos,
    gtid_binlog: h.gtidBinlogPos,
    last_io_error: h.lastIoError,
    last_sql_error: h.lastSqlError,
    read_only: h.readOnly,
    // The link: TLS verifying its source ('tls'), 'plain', or '-' (no link); in a TLS set a plain link is a problem.
    link_tls: linkTls(h),
    ...(linkTlsProblem(setTls, h) ? { tls_problem: linkTlsProblem(setTls, h) } : {}),
    observed: h.observedAt,
  }));
}
