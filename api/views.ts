// The Trove InstanceDetailView shape, built from a registry record.
import type { InstanceRecord } from '../registry/store';

export interface OperationView {
  id: string;
  type: string | null;
  phase?: string;
}

export function instanceView(r: InstanceRecord, baseUrl: string, operation?: OperationView) {
  const self = `${baseUrl}/v1.0/${r.projectId}/instances/${r.id}`;
  return {
    id: r.id,
    name: r.name,
    status: r.status,
    flavor: { id: r.flavorId, links: [{ rel: 'self', href: `${baseUrl}/v1.0/${r.projectId}/flavors/${r.flavorId}` }] },
    volume: { size: r.volumeSize },
    datastore: { type: r.datastore, version: r.datastoreVersion },
    ip: r.address ? [r.address] : [],
    port: r.port,
    availability_zone: r.availabilityZone,
    created: r.created.toISOString(),
    updated: r.updated.toISOString(),
    links: [{ rel: 'self', href: self }],
    ...(r.fault ? { fault: { message: r.fault } } : {}),
    ...(operation ? { operation } : {}),
  };
}
