// Workflow histories: the replay fixtures under test/histories/, and reading what an activity
// returned out of a workflow's history (the results the Web UI shows, for tests and
// benchmarks that check how a step went: a restore's own timings).
import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import type { Client } from '@temporalio/client';
import { decodeHistoryPayloads } from '../../lib/payload-codec';

/** The replay fixtures: test/histories/v<version>/<workflowType>/<scenario>__<date>.json. */
export const HISTORIES_DIR = path.join(__dirname, '..', 'histories');

/** Where the fixtures recorded for a release go (the version as in package.json, e.g. "0.1.0"). */
export function releaseHistoriesDir(version: string): string {
  return path.join(HISTORIES_DIR, `v${version}`);
}

export interface HistoryFixture {
  /** Relative to HISTORIES_DIR: v<version>/<workflowType>/<file>.json. */
  file: string;
  version: string;
  workflowType: string;
}

/** Every fixture of every release (each test/histories/v<version>/), sorted by path. */
export function historyFixtures(): HistoryFixture[] {
  return readdirSync(HISTORIES_DIR, { withFileTypes: true })
    .filter((d) => d.isDirectory() && /^v\d+\.\d+\.\d+/.test(d.name))
    .flatMap((d) =>
      readdirSync(path.join(HISTORIES_DIR, d.name), { recursive: true, encoding: 'utf8' })
        .filter((f) => f.endsWith('.json'))
        .map((f) => ({ file: path.join(d.name, f), version: d.name.slice(1), workflowType: f.split(path.sep)[0]! })),
    )
    .sort((a, b) => a.file.localeCompare(b.file));
}

/** A workflow's history with its payloads decoded by the client's codec (they are stored encrypted). */
export async function fetchDecodedHistory(client: Client, workflowId: string, runId?: string) {
  return decodeHistoryPayloads(await client.workflow.getHandle(workflowId, runId).fetchHistory(), client.options.loadedDataConverter.payloadCodecs);
}

/** The inputs of every activity of that type the workflow scheduled, decoded. */
export async function activityInputs(client: Client, workflowId: string, activityType: string): Promise<unknown[]> {
  const history = await fetchDecodedHistory(client, workflowId);
  return (history.events ?? []).flatMap((e) => {
    const s = e.activityTaskScheduledEventAttributes;
    if (s?.activityType?.name !== activityType) return [];
    return [JSON.parse(Buffer.from(s.input!.payloads![0]!.data!).toString('utf8'))];
  });
}

/** The result of the first completed activity of that type in the workflow's history. */
export async function activityResult<T>(client: Client, workflowId: string, activityType: string): Promise<T | undefined> {
  const history = await fetchDecodedHistory(client, workflowId);
  const scheduled = new Map<string, string>();
  for (const e of history.events ?? []) {
    const s = e.activityTaskScheduledEventAttributes;
    if (s) scheduled.set(String(e.eventId), s.activityType?.name ?? '');
    const c = e.activityTaskCompletedEventAttributes;
    if (c && scheduled.get(String(c.scheduledEventId)) === activityType) {
      const data = c.result?.payloads?.[0]?.data;
      return data ? (JSON.parse(Buffer.from(data).toString('utf8')) as T) : undefined;
    }
  }
  return undefined;
}

/** A workflow's history as JSON with every payload decoded (they travel base64-encoded), to search it for what must not be there. */
export async function historyText(client: Client, workflowId: string): Promise<string> {
  const { historyToJSON } = await import('@temporalio/common/lib/proto-utils');
  const json = historyToJSON(await fetchDecodedHistory(client, workflowId));
  const decoded = [...json.matchAll(/"([A-Za-z0-9+/]{12,}={0,2})"/g)].map((m) => Buffer.from(m[1]!, 'base64').toString('utf8'));
  return `${json}\n${decoded.join('\n')}`;
}

/** The patch ids an execution recorded (its version markers), in order. */
export async function patchMarkers(client: Client, workflowId: string): Promise<string[]> {
  const history = await fetchDecodedHistory(client, workflowId);
  return (history.events ?? []).flatMap((e) => {
    const m = e.markerRecordedEventAttributes;
    if (m?.markerName !== 'core_patch') return [];
    // The details key is "patch-data"; a fetched history carries the payload's data base64-encoded.
    const data = m.details?.['patch-data']?.payloads?.[0]?.data as Uint8Array | string | undefined;
    const bytes = typeof data === 'string' ? Buffer.from(data, 'base64') : Buffer.from(data ?? []);
    return [(JSON.parse(bytes.toString('utf8')) as { id: string }).id];
  });
}
