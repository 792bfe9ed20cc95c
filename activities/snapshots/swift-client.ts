// The few Swift calls the snapshot store makes, over fetch: v1.0 auth (tempauth, swauth, or
// Keystone's v1 shim), containers, objects, listings. A dozen requests over Node's own fetch
// (which streams a response body as it arrives) did not earn an SDK dependency.
// The key and the token stay in this object: errors name the request, never them.

export interface SwiftCredentials {
  authUrl: string;
  user: string;
  key: string;
}

export class SwiftError extends Error {
  constructor(message: string, readonly status?: number) {
    super(message);
    this.name = 'SwiftError';
  }
}

interface Session {
  storageUrl: string;
  token: string;
}

export interface RequestOptions {
  body?: Buffer | string;
  headers?: Record<string, string>;
  query?: Record<string, string>;
  signal?: AbortSignal;
  /** Statuses the caller handles itself (besides 2xx). */
  accept?: number[];
}

/** Each path component encoded, the slashes between them kept. */
export const objectPath = (container: string, name?: string): string =>
  [container, ...(name === undefined ? [] : name.split('/'))].map(encodeURIComponent).join('/');

export class SwiftClient {
  private session?: Promise<Session>;

  constructor(private readonly credentials: SwiftCredentials) {}

  /** Where Swift is, for messages (never the credentials). */
  get endpoint(): string {
    return new URL(this.credentials.authUrl).origin;
  }

  private authenticate(): Promise<Session> {
    this.session ??= (async () => {
      const res = await this.send('GET', this.credentials.authUrl, {
        headers: { 'X-Auth-User': this.credentials.user, 'X-Auth-Key': this.credentials.key },
      }, 'while authenticating');
      await res.body?.cancel();
      const storageUrl = res.headers.get('x-storage-url');
      const token = res.headers.get('x-auth-token');
      if (res.status === 401 || res.status === 403) throw new SwiftError(`Swift at ${this.endpoint} refused the credentials of ${this.credentials.user} (${res.status}): check SWIFT_USER and SWIFT_KEY`, res.status);
      if (!res.ok || !storageUrl || !token) throw new SwiftError(`Swift at ${this.endpoint} did not authenticate ${this.credentials.user}: ${res.status}`, res.status);
      return { storageUrl, token };
    })();
    this.session.catch(() => (this.session = undefined)); // the next request tries again
    return this.session;
  }

  private async send(method: string, url: string, init: { headers?: Record<string, string>; body?: Buffer | string; signal?: AbortSignal }, what: string): Promise<Response> {
    try {
      return await fetch(url, { method, headers: init.headers, body: init.body, signal: init.signal });
    } catch (err) {
      if (init.signal?.aborted) throw err;
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new SwiftError(`Swift at ${this.endpoint} cannot be reached (${cause?.code ?? cause?.message ?? String(err)}) ${what}`);
    }
  }

  /**
   * One request to the account's storage URL (path: container[/object]). A token that has
   * expired is renewed once. Answers the response for 2xx and `accept`; throws otherwise.
   */
  async request(method: string, path: string, o: RequestOptions = {}): Promise<Response> {
    const what = `on ${method} ${decodeURIComponent(path)}`;
    for (let attempt = 0; ; attempt++) {
      const session = await this.authenticate();
      const query = o.query ? `?${new URLSearchParams(o.query).toString()}` : '';
      const res = await this.send(method, `${session.storageUrl}/${path}${query}`, { headers: { ...o.headers, 'X-Auth-Token': session.token }, body: o.body, signal: o.signal }, what);
      if (res.status === 401 && attempt === 0) {
        await res.body?.cancel();
        this.session = undefined;
        continue;
      }
      if (res.ok || o.accept?.includes(res.status)) return res;
      const text = (await res.text().catch(() => '')).slice(0, 300);
      throw new SwiftError(`Swift answered ${res.status} ${what}${text ? `: ${text.trim()}` : ''}`, res.status);
    }
  }

  /** Creates the container if it is not there (PUT is idempotent in Swift). */
  async ensureContainer(container: string): Promise<void> {
    const res = await this.request('PUT', objectPath(container));
    await res.body?.cancel();
  }

  /** Every object name under prefix, all pages; none when the container does not exist. */
  async list(container: string, prefix: string, delimiter?: string): Promise<string[]> {
    const names: string[] = [];
    for (let marker = ''; ; ) {
      const query: Record<string, string> = { format: 'json', prefix, limit: '10000', ...(marker ? { marker } : {}), ...(delimiter ? { delimiter } : {}) };
      const res = await this.request('GET', objectPath(container), { query, accept: [404] });
      if (res.status === 404) {
        await res.body?.cancel();
        return names;
      }
      const page = (await res.json()) as ({ name: string } | { subdir: string })[];
      if (page.length === 0) return names;
      for (const e of page) names.push('name' in e ? e.name : e.subdir);
      marker = names[names.length - 1]!;
    }
  }

  /** The object's response, or undefined when it does not exist. */
  async get(container: string, name: string, o: { signal?: AbortSignal; query?: Record<string, string> } = {}): Promise<Response | undefined> {
    const res = await this.request('GET', objectPath(container, name), { ...o, accept: [404] });
    if (res.status !== 404) return res;
    await res.body?.cancel();
    return undefined;
  }

  /** Stores the object; answers its ETag (the MD5 Swift computed). */
  async put(container: string, name: string, body: Buffer | string, o: { headers?: Record<string, string>; query?: Record<string, string>; signal?: AbortSignal } = {}): Promise<string> {
    const res = await this.request('PUT', objectPath(container, name), { ...o, body });
    await res.body?.cancel();
    return (res.headers.get('etag') ?? '').replace(/"/g, '');
  }

  /** False when there was nothing to delete. */
  async delete(container: string, name: string): Promise<boolean> {
    const res = await this.request('DELETE', objectPath(container, name), { accept: [404] });
    await res.body?.cancel();
    return res.status !== 404;
  }
}
