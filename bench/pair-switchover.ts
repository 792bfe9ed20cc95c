// The switchover benchmark for a master-master pair (issue 19, C3): the active side switched
// back and forth (switch_active) under the same steady writer as the source switchover;
// per switch the longest time without an acknowledged write, the operation's time, the
// acknowledged writes the new active side lacks once it took over (lost), and the most
// sides the application's account found writable at once (sampled every ~20 ms). The load
// average is recorded beside the figures: the machine is shared.
import { loadavg } from 'node:os';
import { createConnection } from 'mysql2/promise';
import { eventually, sleep, startTestStack, type TestStack } from '../test/helpers/stack';
import type { BenchOptions } from './run';
import { apiOk, member, waitIdle, type Member } from './lib/api';
import { table, type Section } from './lib/report';
import { formatSummary, summarize } from './lib/stats';
import { SteadyWriter } from './lib/writer';

const APP = { user: 'app', password: 'bench-app-2', database: 'shop' };

interface PairSwitch {
  gapMs: number;
  operationS: number;
  acked: number;
  lost: number;
  maxWritable: number;
  load1: number;
}

async function writableForApp(m: Member): Promise<boolean> {
  const c = await createConnection({ host: m.ip, port: 3306, ...APP, connectTimeout: 500 }).catch(() => undefined);
  if (!c) return false;
  try {
    const [rows] = await c.query({ sql: 'SELECT @@global.read_only AS ro', timeout: 500 });
    return (rows as { ro: number }[])[0]!.ro === 0;
  } catch {
    return false;
  } finally {
    c.destroy();
  }
}

async function idsOn(m: Member, from: number): Promise<Set<number>> {
  const c = await createConnection({ host: m.ip, port: 3306, ...APP });
  try {
    const [rows] = await c.query('SELECT id FROM writes WHERE id >= ?', [from]);
    return new Set((rows as { id: number }[]).map((r) => r.id));
  } finally {
    await c.end();
  }
}

async function switchTrial(env: TestStack, from: Member, to: Member, firstId: number): Promise<PairSwitch> {
  const load1 = loadavg()[0]!;
  const writer = new SteadyWriter({ [from.id]: from.ip, [to.id]: to.ip }, APP, from.id, firstId);
  let sampling = true;
  let maxWritable = 0;
  const sampler = (async () => {
    while (sampling) {
      const flags = await Promise.all([from, to].map(writableForApp));
      maxWritable = Math.max(maxWritable, flags.filter(Boolean).length);
      await sleep(20);
    }
  })();
  writer.start();
  await sleep(1500);
  const started = Date.now();
  const res = await apiOk(env, 'POST', `/v1.0/proj-a/instances/${to.id}/action`, { switch_active: {} });
  await env.temporal.workflow.getHandle(res.operation.id).result();
  const ended = Date.now();
  await eventually('a write on the new active side', async () => writer.firstAckOn((m) => m === to.id, started), 30_000).catch(async (err) => {
    await writer.stop();
    throw new Error(`${(err as Error).message}; last acks ${JSON.stringify(writer.acks.slice(-2))} of ${writer.acks.length}`);
  });
  await sleep(500);
  await writer.stop();
  sampling = false;
  await sampler;
  // Every acknowledged write on the side that now takes them (the other side had them first or got them through the pair).
  const present = await eventually('every acknowledged write replicated', async () => {
    const ids = await idsOn(to, firstId);
    return writer.acks.every((a) => ids.has(a.id)) ? ids : undefined;
  }, 10_000).catch(() => idsOn(to, firstId));
  await waitIdle(env, to.id);
  return { gapMs: writer.longestGapMs(started, Date.now()), operationS: (ended - started) / 1000, acked: writer.acks.length, lost: writer.acks.filter((a) => !present.has(a.id)).length, maxWritable, load1 };
}

export async function benchPairSwitchover(opts: BenchOptions): Promise<Section[]> {
  const runs = opts.quick ? 4 : Math.max(6, opts.runs);
  const env = await startTestStack();
  const switches: PairSwitch[] = [];
  try {
    const created = await apiOk(env, 'POST', '/v1.0/proj-a/instances', {
      instance: { name: 'bench-pair', flavorRef: '1', volume: { size: 1 }, locality: 'anti-affinity', databases: [{ name: APP.database }], users: [{ name: APP.user, password: APP.password, databases: [{ name: APP.database }] }], replication: { mode: 'master-master' } },
    });
    const made = (await env.temporal.workflow.getHandle(created.instance.operation.id).result()) as { activeId: string; passiveId: string };
    await waitIdle(env, made.activeId);
    await waitIdle(env, made.passiveId);
    let [active, passive] = await Promise.all([member(env, made.activeId), member(env, made.passiveId)]);
    const c = await createConnection({ host: active.ip, port: 3306, ...APP });
    await c.query('CREATE TABLE writes (id INT PRIMARY KEY, v VARCHAR(64), at TIMESTAMP(6) DEFAULT CURRENT_TIMESTAMP(6))');
    await c.end();
    let nextId = 1;
    for (let t = 0; t < runs; t++) {
      const s = await switchTrial(env, active, passive, nextId);
      opts.log(`pair switch ${t + 1}: ${JSON.stringify(s)}`);
      switches.push(s);
      [active, passive] = [passive, active];
      nextId += 1_000_000;
    }
  } finally {
    await env.stop();
  }
  const fmt = (v: number[], unit: 's' | 'ms' | '' = 's', digits = 2) => formatSummary(summarize(v), unit, digits);
  const gaps = switches.map((s) => s.gapMs);
  const lost = switches.reduce((n, s) => n + s.lost, 0);
  const maxWritable = Math.max(...switches.map((s) => s.maxWritable));
  const body = [
    `${switches.length} switches of the active side back and forth (\`switch_active\`) of a pair made at create (\`replication.mode: master-master\`, m1.tiny, anti-affinity, one zone), under a writer inserting one row at a time into whichever side accepts it (persistent connections). Load average (1 min) at each switch: ${switches.map((s) => s.load1.toFixed(1)).join(', ')}.`,
    '',
    table(['Figure', 'Value'], [
      ['Longest time without an acknowledged write', fmt(gaps, 'ms', 0)],
      ['switchPairActive, start to result', fmt(switches.map((s) => s.operationS))],
      ['Acknowledged writes per switch', fmt(switches.map((s) => s.acked), '', 0)],
      ['Acknowledged writes lost (all switches)', String(lost)],
      ['Most sides writable for the application at one sample', String(maxWritable)],
    ]),
    '',
    '- The window runs from the active side fenced (read_only, sessions killed) until the passive side, caught up by GTID, turns writable; moving read replicas and the registry follow while writes flow again.',
    "- Lost: acknowledged writes the new active side lacks (looked for up to 10 s after the switch).",
  ].join('\n');
  return [
    {
      id: 'pair-switchover',
      title: 'Switchover inside a master-master pair',
      body,
      targets: [
        { what: 'longest window without an accepted write <= 1 s', measured: `${summarize(gaps).median.toFixed(0)} ms (median; worst ${Math.max(...gaps)} ms)`, met: Math.max(...gaps) <= 1000 },
        { what: '0 acknowledged writes lost', measured: String(lost), met: lost === 0 },
        { what: 'never two writable sides', measured: `at most ${maxWritable}`, met: maxWritable <= 1 },
      ],
      raw: switches,
    },
  ];
}
