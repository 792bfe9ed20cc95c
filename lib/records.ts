// The registry record an operation creates, built from its input. Pure, so a workflow can
// build the record it asks the registry to keep.
import type { Locality } from './placement';

export interface NewInstance {
  id: string;
  projectId: string;
  name: string;
  flavorId: string;
  volumeSize: number;
  availabilityZone?: string;
  databases: string[];
  users: { name: string; host: string }[];
  operationId: string;
  operationType: string;
  /** A replica recorded ahead of its build: its link, not yet in a set. */
  replicaOf?: string;
  readOnly?: boolean;
  /** Trove's locality and the server group it puts the set's members in (a replica: its source's). */
  locality?: Locality;
  serverGroupId?: string;
  /** Created from a backup (restorePoint): the backup its provisionInstance reads. */
  restoreBackupId?: string;
}

/** The record a provisioning spec describes, holding the lock of the operation creating it. */
export function newInstanceFromSpec(
  spec: { instanceId: string; projectId: string; name: string; flavorId: string; volumeSizeGb: number; availabilityZone?: string; locality?: Locality; restoreBackupId?: string; databases: string[]; users: { name: string; host: string }[] },
  operationId: string,
): NewInstance {
  return {
    ...(spec.locality ? { locality: spec.locality } : {}),
    ...(spec.restoreBackupId ? { restoreBackupId: spec.restoreBackupId } : {}),
    id: spec.instanceId,
    projectId: spec.projectId,
    name: spec.name,
    flavorId: spec.flavorId,
    volumeSize: spec.volumeSizeGb,
    availabilityZone: spec.availabilityZone,
    databases: spec.databases,
    users: spec.users.map((u) => ({ name: u.name, host: u.host })),
    operationId,
    operationType: 'provisionInstance',
  };
}

/** The record of a replica being built, holding the lock of its buildReplica workflow. */
export function newReplicaRecord(r: {
  replicaId: string;
  projectId: string;
  name: string;
  flavorId: string;
  volumeSizeGb: number;
  availabilityZone: string | null;
  sourceId: string;
  readOnly: boolean;
  operationId: string;
  locality?: Locality | null;
  serverGroupId?: string | null;
}): NewInstance {
  return {
    ...(r.locality ? { locality: r.locality } : {}),
    ...(r.serverGroupId ? { serverGroupId: r.serverGroupId } : {}),
    id: r.replicaId,
    projectId: r.projectId,
    name: r.name,
    flavorId: r.flavorId,
    volumeSize: r.volumeSizeGb,
    availabilityZone: r.availabilityZone ?? undefined,
    databases: [],
    users: [],
    operationId: r.operationId,
    operationType: 'buildReplica',
    replicaOf: r.sourceId,
    readOnly: r.readOnly,
  };
}
