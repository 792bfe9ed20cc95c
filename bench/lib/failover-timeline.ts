// Where one automatic failover's time goes (issue 17): milestones in ms after the crash, read
// from the histories (the watch round that decided, the eject's steps) and from the clients.
// The watch's polls are heartbeats, not events: its failover outcome says when the source was
// first seen down (sourceDownSince) and when the deciding poll looked (observedAt); the last
// good poll was at most one poll interval before the first bad one.
import type { Client } from '@temporalio/client';
import { monitorWorkflowId } from '../../lib/names';
import { fetchDecodedHistory } from '../../test/helpers/histories';
import { num, timeline, timeMs, type RawEvent } from '../overhead/history';
import { formatSummary, summarize } from './stats';

export type Milestones = [label: string, ms: number][];

/** The set id and decision time out of an automatic eject's workflow id (startAutomaticFailover names it). */
function setOf(ejectId: string): string | undefined {
  return /^(?:eject|pair-failover)-automatic-(.+)-\d{4}-\d{2}-\d{2}T\d{9}Z$/.exec(ejectId)?.[1];
}

/** The watch round that decided the failover: its outcome and when the activity completed. */
async function decidingRound(client: Client, setId: string, beforeMs: number) {
  const events = ((await fetchDecodedHistory(client, monitorWorkflowId(setId)).catch(() => undefined))?.events ?? []) as RawEvent[];
  const scheduled = new Map<number, string>();
  let found: { closedMs: number; observedAt: string; sourceDownSince: string | null } | undefined;
  for (const e of events) {
    const s = e.activityTaskScheduledEventAttributes;
    if (s) scheduled.set(num(e.eventId), s.activityType?.name ?? '');
    const c = e.activityTaskCompletedEventAttributes;
    if (!c || scheduled.get(num(c.scheduledEventId)) !== 'watchSet') continue;
    const data = c.result?.payloads?.[0]?.data;
    const out = data ? (JSON.parse(Buffer.from(data).toString('utf8')) as { kind: string; observedAt?: string; memory?: { sourceDownSince: string | null } }) : undefined;
    const at = timeMs(e.eventTime);
    if (out?.kind === 'failover' && at <= beforeMs) found = { closedMs: at, observedAt: out.observedAt!, sourceDownSince: out.memory?.sourceDownSince ?? null };
  }
  return found;
}

/**
 * The milestones of one failover, in ms after the crash, in the order they happened. Eject
 * steps issued together (one workflow task) and of one type count as one: "name done" is
 * when the last of them closed.
 */
export async function failoverMilestones(client: Client, ejectId: string, crashAt: number, clients: { directWriteAt: number; apiNamedAt?: number; apiWriteAt?: number }): Promise<Milestones> {
  const out: Milestones = [];
  const rel = (ms: number) => Math.round(ms - crashAt);
  const events = ((await fetchDecodedHistory(client, ejectId)).events ?? []) as RawEvent[];
  const t = timeline(events);
  const setId = setOf(ejectId);
  const round = setId ? await decidingRound(client, setId, t.startedMs) : undefined;
  if (round) {
    if (round.sourceDownSince) out.push(['watch: first poll that saw the source down', rel(Date.parse(round.sourceDownSince))]);
    out.push(['watch: the poll that decided (failover_after later)', rel(Date.parse(round.observedAt))]);
    out.push(['watch: activity completed (decision reaches the workflow)', rel(round.closedMs)]);
  }
  out.push(['eject: workflow started', rel(t.startedMs)]);
  const groups = new Map<string, { name: string; scheduledMs: number; startedMs: number; closedMs: number }>();
  const seen = new Map<string, number>();
  for (const s of t.steps) {
    if (s.kind !== 'activity') continue;
    const key = `${s.batch}/${s.name}`;
    const g = groups.get(key);
    if (g) {
      g.closedMs = Math.max(g.closedMs, s.closedMs ?? NaN);
      g.startedMs = Math.min(g.startedMs, s.startedMs ?? NaN);
      continue;
    }
    const n = (seen.get(s.name) ?? 0) + 1;
    seen.set(s.name, n);
    groups.set(key, { name: n > 1 ? `${s.name} #${n}` : s.name, scheduledMs: s.scheduledMs, startedMs: s.startedMs ?? NaN, closedMs: s.closedMs ?? NaN });
  }
  for (const g of groups.values()) {
    out.push([`eject: ${g.name} scheduled`, rel(g.scheduledMs)]);
    out.push([`eject: ${g.name} done`, rel(g.closedMs)]);
  }
  out.push(['client: first write on the new source (trying every member)', rel(clients.directWriteAt)]);
  if (clients.apiNamedAt) out.push(['client: the REST API first names the new source', rel(clients.apiNamedAt)]);
  if (clients.apiWriteAt) out.push(['client: first write through the API', rel(clients.apiWriteAt)]);
  if (t.closedMs) out.push(['eject: workflow closed', rel(t.closedMs)]);
  return out.filter(([, ms]) => Number.isFinite(ms)).sort((a, b) => a[1] - b[1]);
}

/** Median and spread of each milestone over the trials, in the order of the median. */
export function milestoneTable(trials: Milestones[]): string[][] {
  const by = new Map<string, number[]>();
  for (const m of trials) for (const [label, ms] of m) by.set(label, [...(by.get(label) ?? []), ms]);
  return [...by.entries()]
    .map(([label, v]) => ({ label, s: summarize(v) }))
    .sort((a, b) => a.s.median - b.s.median)
    .map(({ label, s }) => [label, formatSummary(s, 'ms', 0)]);
}
