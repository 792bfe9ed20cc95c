// Running the trove CLI in-process against a stub fetch, and reading what it printed.
import { run, type CliIo } from '../../cli/main';

export const json = (status: number, body?: unknown) =>
  new Response(body === undefined ? null : JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

export const ref = (id: string) => ({ id, links: [{ rel: 'self', href: `http://x/${id}` }] });

export async function runTrove(fetch: CliIo['fetch'], argv: string[], env: Record<string, string> = {}) {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    env: { TROVE_URL: 'http://api.test:8779', TROVE_TOKEN: 'tok', TROVE_PROJECT: 'proj', ...env },
    stdout: (t) => void (stdout += t),
    stderr: (t) => void (stderr += t),
    fetch,
    pollIntervalMs: 1,
  };
  const code = await run(argv, io);
  return { code, stdout, stderr };
}

/** Property -> value of every Property/Value table printed (properties may hold spaces). */
export function tables(stdout: string): Record<string, string>[] {
  const out: Record<string, string>[] = [];
  for (const line of stdout.split('\n')) {
    const m = /^│ (.*?)\s*│ (.*?)\s*│$/.exec(line);
    if (!m) continue;
    if (m[1] === 'Property') out.push({});
    else out[out.length - 1]![m[1]!] = m[2]!;
  }
  return out;
}

export interface ApiCall {
  method: string;
  path: string;
  body?: unknown;
}

export type InstanceView = Record<string, unknown> & { id: string; name: string; status: string };

/** A running operation as the API shows it on an instance. */
export const op = (type: string, phase: string) => ({ operation: { id: `op-${type}`, type, phase } });

/**
 * The part of an in-memory API stub every CLI test shares: the calls it received, and what
 * GET /instances/{id} answers (scripted answers first, the last one repeating; a number is
 * that status). Each test's stub adds the routes it is about in `route`.
 */
export abstract class StubApi {
  calls: ApiCall[] = [];
  instances = new Map<string, InstanceView>();
  script = new Map<string, (InstanceView | number)[]>();

  protected abstract route(method: string, path: string, body: any): Response | undefined;

  fetch = async (url: string, init?: RequestInit): Promise<Response> => {
    const body = init?.body ? JSON.parse(String(init.body)) : undefined;
    const method = init?.method ?? 'GET';
    const path = new URL(url).pathname;
    this.calls.push({ method, path, body });
    const routed = this.route(method, path, body);
    if (routed) return routed;
    const m = /^\/v1\.0\/proj\/instances\/([^/]+)$/.exec(path);
    if (!m) return json(404, { itemNotFound: { code: 404, message: `no route ${path}` } });
    const id = decodeURIComponent(m[1]!);
    const steps = this.script.get(id);
    const step = steps && (steps.length > 1 ? steps.shift() : steps[0]);
    if (typeof step === 'number') return json(step, { itemNotFound: { code: step, message: `instance ${id} not found` } });
    if (step) return json(200, { instance: step });
    const found = this.instances.get(id) ?? [...this.instances.values()].find((v) => v.name === id);
    return found ? json(200, { instance: found }) : json(404, { itemNotFound: { code: 404, message: `instance ${id} not found` } });
  };

  requests = () => this.calls.map((c) => `${c.method} ${c.path}`);
}

export const runAgainst = (api: StubApi, ...argv: string[]) => runTrove(api.fetch, argv);
