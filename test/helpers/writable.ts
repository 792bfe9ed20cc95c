// Shared by the chaos files and the integration tests that watch a set for two writable
// members: a sampler of every member's read_only, and a delete that waits until the
// instance is gone.
import { adminQuery } from './mysql';
import { eventually, sleep, type TestStack } from './stack';

/** DELETE the instance through the API and wait until it is gone (404). */
export async function deleteAndWait(env: TestStack, id: string, timeoutMs = 120_000): Promise<void> {
  const res = await env.api('DELETE', `/v1.0/proj-a/instances/${id}`);
  if (res.status !== 202 && res.status !== 404) throw new Error(`delete ${id}: ${res.status} ${JSON.stringify(res.body)}`);
  await eventually(`${id} deleted`, async () => (await env.api('GET', `/v1.0/proj-a/instances/${id}`)).status === 404, timeoutMs);
}

export interface WritableReport {
  /** The most members confirmed writable at one moment. */
  worst: number;
  /** Each confirmed moment with two or more writable members: ms since start, and which. */
  moments: { atMs: number; ids: string[] }[];
}

/** read_only of one instance's server as the admin (through its socket): true when writable, false when read-only or unreachable. */
async function writableNow(env: TestStack, id: string): Promise<boolean> {
  const rec = await env.registry!.instances.get(id).catch(() => undefined);
  if (!rec?.novaServerId) return false;
  const r = await adminQuery<{ ro: number }>(env.dataDir, rec.novaServerId, 'SELECT @@global.read_only AS ro').catch(() => []);
  return r[0]?.ro === 0;
}

/**
 * Samples read_only of the listed instances until stopped. Reads are not one atomic
 * moment: a correct handover (A closed, then B opened) read A early and B late would look
 * like two writable members. So every round reads all members at once, and the members
 * found writable are read again right after: only members writable in both reads count.
 * If A and B are each writable at both of their reads, their writable spans overlap (the
 * second round starts after the first ends); a handover cannot pass that, because A is
 * already read-only when B is first seen writable. An overlap shorter than one round can
 * be missed; anything like a server booting writable (seconds) is not.
 */
export function writableSampler(env: TestStack, ids: () => Promise<string[]>, intervalMs = 100): () => Promise<WritableReport> {
  let stop = false;
  const report: WritableReport = { worst: 0, moments: [] };
  const started = Date.now();
  const done = (async () => {
    while (!stop) {
      const list = await ids().catch(() => [] as string[]);
      const first = await Promise.all(list.map((id) => writableNow(env, id)));
      let writable = list.filter((_, n) => first[n]);
      if (writable.length > 1) {
        const again = await Promise.all(writable.map((id) => writableNow(env, id)));
        writable = writable.filter((_, n) => again[n]);
      }
      report.worst = Math.max(report.worst, writable.length);
      if (writable.length > 1) report.moments.push({ atMs: Date.now() - started, ids: writable });
      await sleep(intervalMs);
    }
  })();
  return async () => {
    stop = true;
    await done;
    return report;
  };
}

/** The violation a report stands for, if any: naming the members and when (ms after the sampler started). */
export function writableViolations(report: WritableReport): string[] {
  if (report.worst <= 1) return [];
  const shown = report.moments.slice(0, 3).map((m) => `${m.ids.join(' + ')} at ${m.atMs} ms`).join('; ');
  return [`${report.worst} writable members at one sampled moment (${shown})`];
}
