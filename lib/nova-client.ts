// A thin client for the Compute API v2.1 subset we use. Errors carry the HTTP status so
// activities can tell a missing server (fine when deleting) from a failing API (retry).
export interface NovaServer {
  id: string;
  name: string;
  status: 'BUILD' | 'ACTIVE' | 'SHUTOFF' | 'ERROR' | 'REBOOT' | 'HARD_REBOOT' | 'RESIZE' | 'VERIFY_RESIZE' | 'REVERT_RESIZE';
  flavor?: { id: string };
  /** The mock's extension: its data volume's size (no Cinder), null until one is declared. */
  'x-volume-size-gb'?: number | null;
  metadata?: Record<string, string>;
  addresses?: Record<string, { addr: string; version: number }[]>;
  fault?: { code: number; message: string };
  'OS-EXT-AZ:availability_zone'?: string;
  'OS-EXT-SRV-ATTR:host'?: string;
}

export interface NovaFlavor {
  id: string;
  name: string;
  ram: number;
  vcpus: number;
  disk: number;
}

export interface NovaServerGroup {
  id: string;
  name: string;
  policy: 'affinity' | 'anti-affinity';
  members: string[];
}

export class NovaError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
    this.name = 'NovaError';
  }
}

export interface CreateServerRequest {
  name: string;
  flavorRef: string;
  availabilityZone?: string;
  metadata?: Record<string, string>;
  group?: string;
}

export class NovaClient {
  constructor(private readonly baseUrl: string, private readonly token: string) {}

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: { 'X-Auth-Token': this.token, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    if (!res.ok) {
      let message = text;
      try {
        const parsed = JSON.parse(text) as Record<string, { message?: string }>;
        message = Object.values(parsed)[0]?.message ?? text;
      } catch {
        /* not JSON: keep the text */
      }
      throw new NovaError(res.status, `Nova ${method} ${path} answered ${res.status}: ${message}`);
    }
    return (text ? JSON.parse(text) : undefined) as T;
  }

  async getFlavor(id: string): Promise<NovaFlavor> {
    return (await this.call<{ flavor: NovaFlavor }>('GET', `/flavors/${encodeURIComponent(id)}`)).flavor;
  }

  async listFlavors(): Promise<NovaFlavor[]> {
    return (await this.call<{ flavors: NovaFlavor[] }>('GET', '/flavors/detail')).flavors;
  }

  async listZones(): Promise<string[]> {
    const body = await this.call<{ availabilityZoneInfo: { zoneName: string }[] }>('GET', '/os-availability-zone');
    return body.availabilityZoneInfo.map((z) => z.zoneName);
  }

  /** Whether Nova reports the zone available (zoneState): false while its hosts are down. */
  async zoneAvailable(zone: string): Promise<boolean | undefined> {
    const body = await this.call<{ availabilityZoneInfo: { zoneName: string; zoneState?: { available?: boolean } }[] }>('GET', '/os-availability-zone');
    const z = body.availabilityZoneInfo.find((x) => x.zoneName === zone);
    return z ? z.zoneState?.available !== false : undefined;
  }

  /** Every zone with its hosts (os-availability-zone/detail): what placement is decided against. */
  async listZoneHosts(): Promise<{ name: string; hosts: string[] }[]> {
    const body = await this.call<{ availabilityZoneInfo: { zoneName: string; hosts: Record<string, unknown> | null }[] }>('GET', '/os-availability-zone/detail');
    return body.availabilityZoneInfo.map((z) => ({ name: z.zoneName, hosts: Object.keys(z.hosts ?? {}) }));
  }

  async createServerGroup(name: string, policy: NovaServerGroup['policy']): Promise<NovaServerGroup> {
    return (await this.call<{ server_group: NovaServerGroup }>('POST', '/os-server-groups', { server_group: { name, policy } })).server_group;
  }

  async listServerGroups(): Promise<NovaServerGroup[]> {
    return (await this.call<{ server_groups: NovaServerGroup[] }>('GET', '/os-server-groups')).server_groups;
  }

  async getServerGroup(id: string): Promise<NovaServerGroup | undefined> {
    try {
      return (await this.call<{ server_group: NovaServerGroup }>('GET', `/os-server-groups/${encodeURIComponent(id)}`)).server_group;
    } catch (e) {
      if (e instanceof NovaError && e.status === 404) return undefined;
      throw e;
    }
  }

  /** Deleting a group that is already gone is success. */
  async deleteServerGroup(id: string): Promise<void> {
    try {
      await this.call('DELETE', `/os-server-groups/${encodeURIComponent(id)}`);
    } catch (e) {
      if (!(e instanceof NovaError && e.status === 404)) throw e;
    }
  }

  /** The group's policy and the hosts its members run on: what a request joining it is checked against. */
  async groupPlacement(id: string): Promise<{ policy: NovaServerGroup['policy']; memberHosts: string[] } | undefined> {
    const group = await this.getServerGroup(id);
    if (!group) return undefined;
    const servers = await Promise.all(group.members.map((m) => this.getServer(m)));
    const memberHosts = servers.map((s) => s?.['OS-EXT-SRV-ATTR:host']).filter((h): h is string => typeof h === 'string' && h !== '');
    return { policy: group.policy, memberHosts };
  }

  async findServersByName(name: string): Promise<NovaServer[]> {
    const all = (await this.call<{ servers: NovaServer[] }>('GET', `/servers/detail?name=${encodeURIComponent(name)}`)).servers;
    return all.filter((s) => s.name === name);
  }

  async listServers(): Promise<NovaServer[]> {
    return (await this.call<{ servers: NovaServer[] }>('GET', '/servers/detail')).servers;
  }

  async getServer(id: string): Promise<NovaServer | undefined> {
    try {
      return (await this.call<{ server: NovaServer }>('GET', `/servers/${encodeURIComponent(id)}`)).server;
    } catch (e) {
      if (e instanceof NovaError && e.status === 404) return undefined;
      throw e;
    }
  }

  async createServer(r: CreateServerRequest): Promise<string> {
    const body = {
      server: { name: r.name, flavorRef: r.flavorRef, availability_zone: r.availabilityZone, metadata: r.metadata ?? {} },
      ...(r.group ? { 'os:scheduler_hints': { group: r.group } } : {}),
    };
    return (await this.call<{ server: { id: string } }>('POST', '/servers', body)).server.id;
  }

  /** Deleting a server that is already gone is success. */
  async deleteServer(id: string): Promise<void> {
    try {
      await this.call('DELETE', `/servers/${encodeURIComponent(id)}`);
    } catch (e) {
      if (!(e instanceof NovaError && e.status === 404)) throw e;
    }
  }

  async action(id: string, action: 'os-stop' | 'os-start' | 'reboot' | 'lock' | 'unlock' | 'x-power-off' | 'confirmResize' | 'revertResize'): Promise<void> {
    await this.call('POST', `/servers/${encodeURIComponent(id)}/action`, action === 'reboot' ? { reboot: { type: 'HARD' } } : { [action]: null });
  }

  /** Nova's "create or update metadata items": what the server's next boot hands its guest. */
  async updateMetadata(id: string, metadata: Record<string, string>): Promise<Record<string, string>> {
    return (await this.call<{ metadata: Record<string, string> }>('POST', `/servers/${encodeURIComponent(id)}/metadata`, { metadata })).metadata;
  }

  async resize(id: string, flavorRef: string): Promise<void> {
    await this.call('POST', `/servers/${encodeURIComponent(id)}/action`, { resize: { flavorRef } });
  }

  async extendVolume(id: string, newSizeGb: number): Promise<void> {
    await this.call('POST', `/servers/${encodeURIComponent(id)}/action`, { 'x-extend-volume': { new_size: newSizeGb } });
  }
}

/**
 * Server metadata a fence leaves (when it fenced): the guest of a fenced server boots its
 * database read-only once for each fence, whatever its my.cnf said when the power went, so
 * the zone's return or a rebuild's power-on never shows a second writable member.
 */
export const FENCED_AT_METADATA = 'trove_fenced_at';

export function serverAddress(s: NovaServer): string | null {
  for (const list of Object.values(s.addresses ?? {})) {
    const v4 = list.find((a) => a.version === 4);
    if (v4) return v4.addr;
  }
  return null;
}
