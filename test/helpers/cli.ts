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
