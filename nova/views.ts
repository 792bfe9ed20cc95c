// JSON shapes of Nova API v2.1 responses, kept apart from behaviour so the
// wire format can be matched to real Nova without touching the logic.
import type { Flavor } from './flavors';
import type { ZoneConfig } from './placement';
import type { ServerGroupRecord, ServerRecord } from './state';

type Link = { rel: string; href: string };

function links(baseUrl: string, collection: string, id: string): Link[] {
  return [
    { rel: 'self', href: `${baseUrl}/v2.1/${collection}/${id}` },
    { rel: 'bookmark', href: `${baseUrl}/${collection}/${id}` },
  ];
}

export function flavorView(baseUrl: string, f: Flavor) {
  return {
    id: f.id, name: f.name, ram: f.ram, vcpus: f.vcpus, disk: f.disk,
    'OS-FLV-EXT-DATA:ephemeral': 0, swap: 0, rxtx_factor: 1.0, 'os-flavor-access:is_public': true,
    links: links(baseUrl, 'flavors', f.id),
  };
}

const VM_STATE: Record<ServerRecord['status'], string> = {
  BUILD: 'building', ACTIVE: 'active', SHUTOFF: 'stopped', ERROR: 'error', REBOOT: 'active', HARD_REBOOT: 'active',
  RESIZE: 'active', VERIFY_RESIZE: 'resized', REVERT_RESIZE: 'resized',
};

export function serverSummaryView(baseUrl: string, s: ServerRecord) {
  return { id: s.id, name: s.name, links: links(baseUrl, 'servers', s.id) };
}

export function serverView(baseUrl: string, s: ServerRecord) {
  return {
    ...serverSummaryView(baseUrl, s),
    status: s.status,
    flavor: { id: s.flavorId, links: [{ rel: 'bookmark', href: `${baseUrl}/flavors/${s.flavorId}` }] },
    image: '',
    metadata: s.metadata,
    'OS-EXT-AZ:availability_zone': s.zone ?? '',
    'OS-EXT-SRV-ATTR:host': s.host,
    'OS-EXT-SRV-ATTR:hypervisor_hostname': s.host,
    'OS-EXT-STS:vm_state': VM_STATE[s.status],
    'OS-EXT-STS:task_state': s.taskState,
    'OS-EXT-STS:power_state': s.runtime !== null ? 1 : 4, // RUNNING : SHUTDOWN
    locked: s.locked,
    // Extension (no Cinder here): the data volume's size once declared, null before.
    'x-volume-size-gb': s.volumeGb,
    addresses: s.address === null ? {} : { private: [{ addr: s.address, version: 4 }] },
    accessIPv4: '',
    accessIPv6: '',
    created: s.created,
    updated: s.updated,
    ...(s.fault === null ? {} : { fault: s.fault }),
  };
}

export function serverGroupView(g: ServerGroupRecord, members: string[]) {
  // Both shapes: `policies` before microversion 2.64, `policy` from 2.64 on.
  return { id: g.id, name: g.name, policies: [g.policy], policy: g.policy, rules: {}, members, metadata: {} };
}

export function zoneView(zone: ZoneConfig, detail: boolean, updatedAt: string, available = true) {
  const service = { available, active: available, updated_at: updatedAt };
  return {
    zoneName: zone.name,
    zoneState: { available },
    hosts: detail ? Object.fromEntries(zone.hosts.map((h) => [h, { 'nova-compute': service }])) : null,
  };
}
