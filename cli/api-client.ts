// Thin HTTP client for the Trove v1.0 REST API. Knows nothing about commander or output.

export type FetchLike = (url: string, init?: RequestInit) => Promise<Response>;

export interface ApiConfig {
  url: string;
  token: string;
  project: string;
  fetch: FetchLike;
  /** An administrator's token (TROVE_ADMIN_TOKEN), for the /v1.0/admin routes. */
  adminToken?: string;
}

/** A non-2xx answer; `message` comes from the Trove error body when there is one. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly body?: unknown,
  ) {
    super(message);
  }
}

/** The request never got an HTTP answer (refused, DNS, reset...). */
export class UnreachableError extends Error {}

export type InstanceView = Record<string, unknown> & { id: string; name: string; status: string };

export interface OperationRef {
  id: string;
  type?: string | null;
  phase?: string;
}

/** 202 of a replica create (POST /instances with replica_of, or the replicate action). */
export interface ReplicasAnswer {
  /** The last replica, as Trove answers a create. */
  instance: InstanceView;
  replicas?: InstanceView[];
  operation?: OperationRef;
}

/** A replication set's failover settings, as GET/PATCH /instances/{id}/replication answer them. */
export interface ReplicationSettingsView {
  replication_set_id: string;
  auto_failover: boolean;
  semi_sync: boolean;
  tls?: boolean;
  quiet_period: number;
  failover_after: number;
  last_failover: null | { at: string; operation: string; acknowledged: boolean };
}

export interface ReplicationSettingsPatch {
  auto_failover?: boolean;
  semi_sync?: boolean;
  quiet_period?: number;
  failover_after?: number;
  acknowledge_failover?: true;
  /** true: turn TLS on; {renew: true}: re-issue every member's certificate; {rotate_ca: true}: a new CA for the set. */
  tls?: boolean | { renew: true } | { rotate_ca: true };
}

export function configFromEnv(env: Record<string, string | undefined>, fetch: FetchLike): ApiConfig {
  return {
    // A trailing slash would otherwise produce "//v1.0" paths.
    url: (env.TROVE_URL || 'http://127.0.0.1:8779').replace(/\/+$/, ''),
    token: env.TROVE_TOKEN || 'trove-local-token',
    project: env.TROVE_PROJECT || 'demo',
    fetch,
    ...(env.TROVE_ADMIN_TOKEN ? { adminToken: env.TROVE_ADMIN_TOKEN } : {}),
  };
}

/** Trove bodies are {"<someKey>": {"code", "message"}} with a key that varies by status. */
function errorMessage(status: number, body: unknown, text: string): string {
  if (body && typeof body === 'object') {
    for (const v of Object.values(body as Record<string, unknown>)) {
      if (v && typeof v === 'object' && typeof (v as { message?: unknown }).message === 'string') return (v as { message: string }).message;
    }
  }
  return text.trim() ? `HTTP ${status}: ${text.trim().slice(0, 500)}` : `HTTP ${status}`;
}

function causeCode(err: unknown): string | undefined {
  // undici wraps the socket error as TypeError('fetch failed', { cause }); the cause may be an AggregateError.
  const cause = (err as { cause?: { code?: string; errors?: { code?: string }[] } })?.cause;
  return cause?.code ?? cause?.errors?.find((e) => e.code)?.code ?? (err as { code?: string })?.code;
}

export class TroveApi {
  constructor(readonly config: ApiConfig) {}

  private async request(method: string, path: string, body?: unknown, admin = false): Promise<unknown> {
    const { url, project, fetch } = this.config;
    // The admin routes take the administrator's token; without one, the project's (which the API refuses with 403).
    const token = admin ? (this.config.adminToken ?? this.config.token) : this.config.token;
    const headers: Record<string, string> = { 'X-Auth-Token': token, Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(`${url}/v1.0/${admin ? 'admin' : encodeURIComponent(project)}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      const code = causeCode(err);
      if (code === 'ECONNREFUSED') throw new UnreachableError(`cannot reach the Trove API at ${url} (is npm start running?)`);
      throw new UnreachableError(`cannot reach the Trove API at ${url}: ${code ?? (err as Error)?.message ?? String(err)}`);
    }
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (!res.ok) throw new ApiError(res.status, errorMessage(res.status, parsed, text), parsed);
    return parsed;
  }

  private static ref(idOrName: string): string {
    return `/instances/${encodeURIComponent(idOrName)}`;
  }

  async createInstance(instance: Record<string, unknown>): Promise<InstanceView> {
    return ((await this.request('POST', '/instances', { instance })) as { instance: InstanceView }).instance;
  }

  /** Same route as createInstance; the body's replica_of makes it answer with every replica. */
  async createReplicas(instance: Record<string, unknown>): Promise<ReplicasAnswer> {
    return (await this.request('POST', '/instances', { instance })) as ReplicasAnswer;
  }

  async replicate(idOrName: string, replicate: Record<string, unknown>): Promise<ReplicasAnswer> {
    return (await this.request('POST', `${TroveApi.ref(idOrName)}/action`, { replicate })) as ReplicasAnswer;
  }

  async detachReplica(idOrName: string): Promise<{ operation: OperationRef }> {
    return (await this.request('POST', `${TroveApi.ref(idOrName)}/topology/action`, { detach: {} })) as { operation: OperationRef };
  }

  /** Switchover: the replica becomes the source, the old source follows it. */
  async promoteToReplicaSource(idOrName: string): Promise<{ operation: OperationRef }> {
    return (await this.request('POST', `${TroveApi.ref(idOrName)}/action`, { promote_to_replica_source: {} })) as { operation: OperationRef };
  }

  /** Failover: the source is fenced and a replica takes over. force is only sent when asked for. */
  async ejectReplicaSource(idOrName: string, force: boolean): Promise<{ operation: OperationRef }> {
    const eject_replica_source = force ? { force: true } : {};
    return (await this.request('POST', `${TroveApi.ref(idOrName)}/action`, { eject_replica_source })) as { operation: OperationRef };
  }

  async rebuildAsReplica(idOrName: string): Promise<{ operation: OperationRef }> {
    return (await this.request('POST', `${TroveApi.ref(idOrName)}/action`, { rebuild_as_replica: {} })) as { operation: OperationRef };
  }

  /** Master-master: the instance becomes the active side of a new pair; the answer names the second side. */
  async createPair(idOrName: string, name?: string): Promise<{ instance: InstanceView; operation: OperationRef }> {
    return (await this.request('POST', `${TroveApi.ref(idOrName)}/action`, { create_pair: name ? { name } : {} })) as { instance: InstanceView; operation: OperationRef };
  }

  /** Master-master: the side addressed becomes the active (writable) one. */
  async switchActive(idOrName: string): Promise<{ operation: OperationRef }> {
    return (await this.request('POST', `${TroveApi.ref(idOrName)}/action`, { switch_active: {} })) as { operation: OperationRef };
  }

  /** Master-master: a side a failover lost is rebuilt from the survivor and becomes the pair's passive side again. */
  async rejoinPair(idOrName: string): Promise<{ operation: OperationRef }> {
    return (await this.request('POST', `${TroveApi.ref(idOrName)}/action`, { rejoin_pair: {} })) as { operation: OperationRef };
  }

  /** Master-master: the pair dissolves into a source (its active side) with the other side as its replica. */
  async breakPair(idOrName: string): Promise<{ operation: OperationRef }> {
    return (await this.request('POST', `${TroveApi.ref(idOrName)}/action`, { break_pair: {} })) as { operation: OperationRef };
  }

  async restartInstance(idOrName: string): Promise<{ operation: OperationRef }> {
    return (await this.request('POST', `${TroveApi.ref(idOrName)}/action`, { restart: {} })) as { operation: OperationRef };
  }

  /** One of a new flavor or a larger volume: the API refuses both at once, as Trove does. */
  async resizeInstance(idOrName: string, resize: { flavorRef: string } | { volume: { size: number } }): Promise<{ operation: OperationRef }> {
    return (await this.request('POST', `${TroveApi.ref(idOrName)}/action`, { resize })) as { operation: OperationRef };
  }

  /** 202 with no body: nothing is left to reset once no operation holds the instance. */
  async resetStatus(idOrName: string): Promise<void> {
    await this.request('POST', `${TroveApi.ref(idOrName)}/action`, { reset_status: {} });
  }

  /** troveclient's update: a rename answers the instance; with replica_of: null it is also a detach, answering the operation. */
  async updateInstance(idOrName: string, instance: { name?: string; replica_of?: null }): Promise<{ instance?: InstanceView; operation?: OperationRef }> {
    return (await this.request('PATCH', TroveApi.ref(idOrName), { instance })) as { instance?: InstanceView; operation?: OperationRef };
  }

  async getReplicationSettings(idOrName: string): Promise<ReplicationSettingsView> {
    return ((await this.request('GET', `${TroveApi.ref(idOrName)}/replication`)) as { replication: ReplicationSettingsView }).replication;
  }

  async updateReplicationSettings(idOrName: string, replication: ReplicationSettingsPatch): Promise<ReplicationSettingsView> {
    return ((await this.request('PATCH', `${TroveApi.ref(idOrName)}/replication`, { replication })) as { replication: ReplicationSettingsView }).replication;
  }

  /**
   * Zone profiles: created and deleted with the administrator's token under /v1.0/admin; listed
   * and shown there too when one is configured, else with the project's token.
   */
  /** Trove's /backups: POST a new one, GET the list or one, DELETE one. */
  async backups(method: 'GET' | 'POST' | 'DELETE', id?: string, body?: unknown, query = ''): Promise<unknown> {
    return this.request(method, `/backups${id === undefined ? '' : `/${encodeURIComponent(id)}`}${query}`, body);
  }

  async zoneProfiles(method: 'GET' | 'POST' | 'DELETE', ref?: string, body?: unknown): Promise<unknown> {
    const admin = method !== 'GET' || this.config.adminToken !== undefined;
    return this.request(method, `/zone-profiles${ref === undefined ? '' : `/${encodeURIComponent(ref)}`}`, body, admin);
  }

  /** DR with a zone profile on a running instance (enableDr), or off again (the DR replica deleted). */
  async dr(method: 'POST' | 'DELETE', idOrName: string, profile?: string): Promise<Record<string, unknown>> {
    return ((await this.request(method, `${TroveApi.ref(idOrName)}/dr`, method === 'POST' ? { dr: { profile } } : undefined)) as { dr: Record<string, unknown> }).dr;
  }

  async listInstances(): Promise<InstanceView[]> {
    return ((await this.request('GET', '/instances')) as { instances: InstanceView[] }).instances;
  }

  async getInstance(idOrName: string): Promise<InstanceView> {
    return ((await this.request('GET', TroveApi.ref(idOrName))) as { instance: InstanceView }).instance;
  }

  async deleteInstance(idOrName: string): Promise<void> {
    await this.request('DELETE', TroveApi.ref(idOrName));
  }

  /** The databases and users routes (path below the instance), each list followed page by page as troveclient does. */
  async access(method: string, idOrName: string, below: string, body?: unknown): Promise<unknown> {
    return this.request(method, `${TroveApi.ref(idOrName)}${below}`, body);
  }

  async accessList<T>(idOrName: string, what: 'databases' | 'users'): Promise<T[]> {
    const items: T[] = [];
    let marker: string | undefined;
    do {
      const page = (await this.access('GET', idOrName, `/${what}${marker ? `?marker=${encodeURIComponent(marker)}` : ''}`)) as Record<string, unknown> & { links?: { rel: string; href: string }[] };
      items.push(...((page[what] as T[]) ?? []));
      const next = page.links?.find((l) => l.rel === 'next');
      marker = next ? (new URL(next.href).searchParams.get('marker') ?? undefined) : undefined;
    } while (marker);
    return items;
  }
}

/** name[@host] as troveclient puts it in a path (quote_user_host): "@" and "%" percent-encoded, "." as %2e. */
export function userPath(name: string, host?: string): string {
  return encodeURIComponent(host ? `${name}@${host}` : name).replace(/\./g, '%2e');
}
