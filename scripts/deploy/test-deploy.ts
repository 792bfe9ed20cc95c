// npm run test:deploy — the compose stack end to end (issue 21): builds what is missing, brings
// docker-compose.yml up with three orchestrators, plays the scenario through the REST API, and
// tears everything down, asserting that nothing of the project is left. Each phase is timed;
// the times go to stdout and to .build/deploy/test-deploy-times.json.
//
//   create with data -> two replicas (snapshot through Swift) while one of the three
//   orchestrator containers is SIGKILLed mid-operation -> `docker kill` of the source's server
//   under a writer, automatic failover -> a network cut of the source that only the
//   orchestrators see: no failover -> Prometheus scrape -> the Web UI and its codec server
//   -> delete -> `docker compose down -v`.
//
// Not part of `npm test` or .ci/run: a cold build of the Temporal server alone takes ~18 min.
// KEEP_STACK=1 leaves the stack up at the end (no down -v) for a look around.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { createConnection, type Connection as Sql } from 'mysql2/promise';
import { REPO_ROOT } from '../../lib/config';
import { ENCRYPTED_ENCODING, payloadDataConverter } from '../../lib/payload-codec';
import { ORCHESTRATOR_TASK_QUEUE } from '../../lib/names';
import { DOCKER_LABEL } from '../../nova/drivers/docker';

const OUT = path.join(REPO_ROOT, '.build', 'deploy');
const APP = { user: 'app', password: 'app-pass-9' };
const ROWS = 2000;

// ---- plumbing -------------------------------------------------------------------------------

const times: { phase: string; seconds: number; note?: string }[] = [];
const log = (line: string) => process.stdout.write(`[test:deploy ${new Date().toISOString().slice(11, 19)}] ${line}\n`);

async function phase<T>(name: string, fn: () => Promise<T>, note?: (r: T) => string): Promise<T> {
  log(`-- ${name}`);
  const start = Date.now();
  const result = await fn();
  const seconds = (Date.now() - start) / 1000;
  const n = note?.(result);
  times.push({ phase: name, seconds, ...(n ? { note: n } : {}) });
  log(`   ${name}: ${seconds.toFixed(1)} s${n ? ` (${n})` : ''}`);
  return result;
}

function readEnvFile(file: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) env[m[1]!] = m[2]!;
  }
  return env;
}

const COMPOSE: string[] = (() => {
  try {
    execFileSync('docker-compose', ['version'], { stdio: 'ignore' });
    return ['docker-compose'];
  } catch {
    return ['docker', 'compose'];
  }
})();

function sh(cmd: string[], o: { quiet?: boolean } = {}): string {
  try {
    return execFileSync(cmd[0]!, cmd.slice(1), { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 }).toString().trim();
  } catch (err) {
    if (o.quiet) return '';
    const e = err as { stderr?: Buffer; stdout?: Buffer };
    throw new Error(`${cmd.join(' ')} failed: ${String(e.stderr ?? '').trim() || String(e.stdout ?? '').trim()}`, { cause: err });
  }
}
const compose = (...args: string[]) => sh([...COMPOSE, ...args]);
const docker = (...args: string[]) => sh(['docker', ...args]);

/** Runs a command with its output on ours (long builds). */
function stream(cmd: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd[0]!, cmd.slice(1), { cwd: REPO_ROOT, stdio: 'inherit' });
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd.join(' ')} exited ${code}`))));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function eventually<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs: number, everyMs = 500): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await sleep(everyMs);
  }
}

function check(ok: unknown, what: string): void {
  if (!ok) throw new Error(`check failed: ${what}`);
  log(`   ok: ${what}`);
}

// ---- the stack as a client sees it ----------------------------------------------------------

const env = (() => {
  if (!existsSync(path.join(REPO_ROOT, '.env'))) sh(['bash', 'scripts/deploy/make-env.sh']);
  return readEnvFile(path.join(REPO_ROOT, '.env'));
})();
const PROJECT = env.COMPOSE_PROJECT_NAME ?? 'trove';
const NETWORK = env.TROVE_NETWORK ?? 'trove-deploy';
const API = `http://127.0.0.1:${env.TROVE_API_HOST_PORT ?? '18779'}`;
const UI = `http://127.0.0.1:${env.TEMPORAL_UI_HOST_PORT ?? '18080'}`;
const PROM = `http://127.0.0.1:${env.PROMETHEUS_HOST_PORT ?? '19090'}`;
const TEMPORAL = `127.0.0.1:${env.TEMPORAL_HOST_PORT ?? '17233'}`;
const [TOKEN, TENANT] = env.TROVE_API_TOKENS!.split(',')[0]!.split('=') as [string, string];

async function api(method: string, route: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${API}${route}`, {
    method,
    headers: { 'X-Auth-Token': TOKEN, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}
const show = async (id: string) => (await api('GET', `/v1.0/${TENANT}/instances/${id}`)).body?.instance;
function waitIdle(id: string, timeoutMs = 300_000): Promise<any> {
  return eventually(`${id} ACTIVE and idle`, async () => {
    const i = await show(id);
    if (i?.status === 'ERROR') throw Object.assign(new Error(`${id} went to ERROR: ${JSON.stringify(i.fault)}`), { fatal: true });
    return i?.status === 'ACTIVE' && !i.operation ? i : undefined;
  }, timeoutMs);
}
async function action(id: string, body: unknown): Promise<any> {
  const res = await api('POST', `/v1.0/${TENANT}/instances/${id}/action`, body);
  if (res.status !== 202) throw new Error(`action on ${id} answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body;
}

/** The registry's address of an instance (the API shows it as its IP). */
async function addressOf(id: string): Promise<string> {
  const i = await show(id);
  const ip = i?.ip?.[0] ?? i?.addresses?.[0]?.address;
  if (!ip) throw new Error(`instance ${id} shows no address: ${JSON.stringify(i)}`);
  return ip;
}
const sql = (host: string, timeoutMs = 3000): Promise<Sql> => createConnection({ host, port: 3306, ...APP, database: 'shop', connectTimeout: timeoutMs });
async function checksum(host: string): Promise<string> {
  const c = await sql(host);
  try {
    const [rows] = await c.query('CHECKSUM TABLE shop.orders');
    return String((rows as { Checksum: unknown }[])[0]!.Checksum);
  } finally {
    await c.end();
  }
}

function orchestratorContainers(): { id: string; name: string; hostname: string; pid: number; running: boolean }[] {
  const ids = compose('ps', '-q', 'orchestrator').split('\n').filter(Boolean);
  return ids.map((id) => {
    const [name, hostname, pid, running] = docker('inspect', id, '--format', '{{.Name}} {{.Config.Hostname}} {{.State.Pid}} {{.State.Running}}').split(' ');
    return { id, name: name!.replace(/^\//, ''), hostname: hostname!, pid: Number(pid), running: running === 'true' };
  });
}

async function pollers(client: Client): Promise<string[]> {
  const res = await client.connection.workflowService.describeTaskQueue({ namespace: 'default', taskQueue: { name: ORCHESTRATOR_TASK_QUEUE }, taskQueueType: 1 });
  return [...new Set((res.pollers ?? []).map((p) => p.identity ?? ''))];
}

/** Hostnames (container ids) of the workers that hold a started activity of one of these workflows. */
async function workersOf(client: Client, workflowIds: string[]): Promise<{ hostname: string; activity: string }[]> {
  const found: { hostname: string; activity: string }[] = [];
  for (const id of workflowIds) {
    const d = await client.workflow.getHandle(id).describe().catch(() => undefined);
    for (const a of d?.raw.pendingActivities ?? []) {
      // identity is pid@hostname; a started activity names the worker that runs it.
      if (a.state === 2 /* STARTED */ && a.lastWorkerIdentity) found.push({ hostname: a.lastWorkerIdentity.split('@')[1]!, activity: a.activityType?.name ?? '' });
    }
  }
  return found;
}

/** The first value of a Prometheus instant query, as a number (undefined when empty). */
async function promQuery(q: string): Promise<number | undefined> {
  const body = (await (await fetch(`${PROM}/api/v1/query?query=${encodeURIComponent(q)}`)).json()) as { data: { result: { value: [number, string] }[] } };
  const v = body.data.result[0]?.value[1];
  return v === undefined ? undefined : Number(v);
}

/** Hostname of the worker that started the latest workflow task of the first of these workflows that has one. */
async function lastWorkflowTaskWorker(client: Client, workflowIds: string[]): Promise<string | undefined> {
  for (const id of workflowIds) {
    const history = await client.workflow.getHandle(id).fetchHistory().catch(() => undefined);
    const started = (history?.events ?? []).filter((e) => e.workflowTaskStartedEventAttributes?.identity).pop();
    if (started) return started.workflowTaskStartedEventAttributes!.identity!.split('@')[1];
  }
  return undefined;
}

// ---- the scenario ---------------------------------------------------------------------------

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  const started = Date.now();
  await phase('build images (what is missing)', () => stream(['bash', 'scripts/deploy/build-images.sh']));

  await phase('compose up --scale orchestrator=3, all healthy', async () => {
    compose('up', '-d', '--scale', 'orchestrator=3');
    await eventually('every service healthy or done', async () => {
      const ids = compose('ps', '-a', '-q').split('\n').filter(Boolean);
      const states = ids.map((id) => docker('inspect', id, '--format', '{{.Name}} {{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{end}} {{.State.ExitCode}}'));
      const bad = states.filter((s) => {
        const [, status, health, code] = s.split(' ');
        if (status === 'exited') return code !== '0' ? (() => { throw new Error(`${s}: a one-shot job failed`); })() : false;
        return status !== 'running' || (health !== '' && health !== 'healthy');
      });
      return ids.length >= 13 && bad.length === 0 ? true : undefined;
    }, 600_000, 2000);
  });

  const connection = await Connection.connect({ address: TEMPORAL });
  const client = new Client({ connection, namespace: 'default', dataConverter: payloadDataConverter(env) });
  try {
    await phase('three orchestrators poll the task queue', async () => {
      const ids = await eventually('3 pollers', async () => ((await pollers(client)).length >= 3 ? pollers(client) : undefined), 180_000, 1000);
      check(ids.length >= 3, `${ids.length} orchestrator workers poll ${ORCHESTRATOR_TASK_QUEUE}`);
      check((await api('GET', `/v1.0/${TENANT}/instances`)).status === 200, 'the API answers a project\'s list');
    });

    const source = await phase('create with data', async () => {
      const created = await api('POST', `/v1.0/${TENANT}/instances`, {
        instance: { name: 'deployed', flavorRef: '1', volume: { size: 1 }, databases: [{ name: 'shop' }], users: [{ name: APP.user, password: APP.password, databases: [{ name: 'shop' }] }] },
      });
      check(created.status === 202, `create answered 202 (${created.status})`);
      const id = created.body.instance.id as string;
      await waitIdle(id);
      const ip = await addressOf(id);
      const c = await sql(ip);
      await c.query('CREATE TABLE orders (id INT PRIMARY KEY, v VARCHAR(40))');
      await c.query('INSERT INTO orders VALUES ?', [Array.from({ length: ROWS }, (_, i) => [i + 1, `row ${i + 1}`])]);
      await c.end();
      const server = docker('ps', '--filter', `label=${DOCKER_LABEL}=${NETWORK}`, '--format', '{{.Names}}');
      check(server.split('\n').length === 1, `its server is a container on ${NETWORK} (${server})`);
      return id;
    });

    const replicas = await phase('two replicas through Swift, one orchestrator SIGKILLed mid-operation', async () => {
      const rep = await action(source, { replicate: { count: 2 } });
      const ids = (rep.replicas as { id: string }[]).map((r) => r.id);
      const opId = rep.operation.id as string;
      // The worker running one of the operation's activities (the snapshot, a build) dies.
      const childIds = ids.map((id) => `build-replica-${id}`);
      // Orchestrator activities are mostly short: after 20 s without one caught running, the
      // victim is the worker that ran the operation's latest workflow task (its sticky cache).
      const since = Date.now();
      const victim = await eventually('an orchestrator working on the operation', async () => {
        const containers = orchestratorContainers();
        const held = await workersOf(client, [opId, ...childIds]);
        const byHost = containers.find((c) => held.some((h) => h.hostname === c.hostname));
        if (byHost) return { ...byHost, activity: held.find((h) => h.hostname === byHost.hostname)!.activity };
        if (Date.now() - since < 20_000) return undefined;
        const sticky = await lastWorkflowTaskWorker(client, [...childIds, opId]);
        const byTask = containers.find((c) => c.hostname === sticky);
        return byTask ? { ...byTask, activity: 'workflow tasks (sticky cache)' } : undefined;
      }, 120_000, 200);
      docker('kill', victim.id);
      log(`   SIGKILLed ${victim.name} while it ran ${victim.activity}`);
      await client.workflow.getHandle(opId).result();
      for (const id of ids) await waitIdle(id);
      const expected = await checksum(await addressOf(source));
      for (const id of ids) check((await checksum(await addressOf(id))) === expected, `replica ${id} has the source's checksum`);
      const history = await client.workflow.getHandle(opId).fetchHistory();
      const snapshot = history.events?.find((e) => e.activityTaskCompletedEventAttributes && history.events?.find((s) => String(s.eventId) === String(e.activityTaskCompletedEventAttributes!.scheduledEventId))?.activityTaskScheduledEventAttributes?.activityType?.name === 'createSnapshot');
      const stored = snapshot?.activityTaskCompletedEventAttributes?.result?.payloads?.[0];
      check(stored && Buffer.from(stored.metadata!.encoding!).toString() === ENCRYPTED_ENCODING, 'the stored snapshot result is ciphertext (payload codec)');
      const decoded = (await client.options.loadedDataConverter.payloadCodecs[0]!.decode([stored!]))[0]!;
      const meta = JSON.parse(Buffer.from(decoded.data!).toString()) as { dataset: { location: string } };
      check(meta.dataset.location.startsWith('swift://'), `the snapshot went through Swift (${meta.dataset.location})`);
      // The killed replica comes back (or is started again) so that three poll once more.
      compose('up', '-d', '--no-recreate', '--scale', 'orchestrator=3');
      return { ids, victim: victim.name, activity: victim.activity };
    }, (r) => `killed ${r.victim} during ${r.activity}`);

    const [r1, r2] = replicas.ids as [string, string];

    const newSource = await phase('docker kill of the source server under a writer: automatic failover', async () => {
      const settings = await api('PATCH', `/v1.0/${TENANT}/instances/${source}/replication`, { replication: { auto_failover: true, failover_after: 2 } });
      check(settings.status === 200, `auto_failover on (${settings.status})`);
      const ip = await addressOf(source);
      let acked = 0;
      let failed = 0;
      let stop = false;
      const writer = (async () => {
        let c: Sql | undefined;
        let n = 100_000;
        while (!stop) {
          try {
            c ??= await sql(ip, 1000);
            await c.query('INSERT INTO orders VALUES (?, ?)', [++n, 'written under the kill']);
            acked = n - 100_000;
          } catch {
            failed++;
            c?.destroy();
            c = undefined;
            await sleep(200);
          }
          await sleep(20);
        }
        c?.destroy();
      })();
      await sleep(2000);
      const serverName = docker('ps', '--filter', `label=${DOCKER_LABEL}=${NETWORK}`, '--filter', `network=${NETWORK}`, '--format', '{{.Names}}')
        .split('\n')
        .find((n) => docker('inspect', n, '--format', `{{(index .NetworkSettings.Networks "${NETWORK}").IPAddress}}`) === ip);
      check(serverName, `the source's server container (${serverName}) found by its address ${ip}`);
      const killedAt = Date.now();
      docker('kill', serverName!);
      const promoted = await eventually('a replica took over', async () => {
        for (const id of [r1, r2]) {
          const i = await show(id);
          if (i?.status === 'ACTIVE' && i.replicates_from.length === 0 && i.writable && !i.operation) return id;
        }
        return undefined;
      }, 180_000, 250);
      const tookMs = Date.now() - killedAt;
      stop = true;
      await writer;
      const c = await sql(await addressOf(promoted));
      await c.query('INSERT INTO orders VALUES (?, ?)', [9_000_001, 'after failover']);
      const [rows] = await c.query('SELECT COUNT(*) AS n FROM orders WHERE id > 100000 AND id < 9000000');
      await c.end();
      const kept = (rows as { n: number }[])[0]!.n;
      check((await show(source)).status === 'ERROR', 'the killed source is ERROR');
      log(`   writer: ${acked} acknowledged before the kill, ${kept} of them on the new source, ${failed} failed attempts; kill -> new source ${tookMs} ms`);
      return { promoted, tookMs, acked, kept };
    }, (r) => `kill -> writable new source ${r.tookMs} ms; ${r.kept}/${r.acked} acknowledged writes kept (async replication)`);

    const other = newSource.promoted === r1 ? r2 : r1;
    await phase('a network cut of the source that only the orchestrators see: no failover', async () => {
      await waitIdle(other);
      const ip = await addressOf(newSource.promoted);
      const cut = orchestratorContainers().filter((c) => c.running);
      // Each orchestrator's own network namespace drops packets to the source; the replica still
      // reaches it (its replication thread runs), so the watch must not fail it over.
      const rule = (op: '-I' | '-D', pid: number) => sh(['nsenter', '-t', String(pid), '-n', 'iptables', op, 'OUTPUT', '-d', ip, '-j', 'DROP']);
      // The failover of the phase before is counted (and scraped) before the cut starts.
      const failoversBefore = await eventually('the earlier failover counted', async () => {
        const n = await promQuery('sum(trove_automatic_failovers_total)');
        return n !== undefined && n >= 1 ? n : undefined;
      }, 30_000, 1000);
      for (const c of cut) rule('-I', c.pid);
      try {
        const cutAt = Date.now();
        const reach = (pid: number) => sh(['nsenter', '-t', String(pid), '-n', 'timeout', '3', 'bash', '-c', `exec 3<>/dev/tcp/${ip}/3306 && echo open`], { quiet: true });
        check(cut.every((c) => reach(c.pid) !== 'open'), 'no orchestrator container reaches the source\'s MariaDB');
        // The watch saw it: the source is unreachable in the orchestrators' own metrics.
        await eventually('the watch reports the source unreachable', async () => ((await promQuery(`max(trove_member_reachable{instance_id="${newSource.promoted}"})`)) === 0 ? true : undefined), 25_000, 1000);
        log('   ok: trove_member_reachable of the source is 0 (the watch sees the cut)');
        await sleep(Math.max(0, 30_000 - (Date.now() - cutAt))); // well past failover_after (2 s) and many watch polls
        const s = await show(newSource.promoted);
        const r = await show(other);
        check(s.replicates_from.length === 0 && s.status !== 'ERROR', `the source is still the source (${s.status})`);
        check((r.replicates_from as string[]).includes(newSource.promoted), 'the replica still replicates from it');
        check((await promQuery('sum(trove_automatic_failovers_total)')) === failoversBefore, `no automatic failover started (${failoversBefore} in all, the earlier one)`);
      } finally {
        for (const c of cut) rule('-D', c.pid);
      }
      return cut.length;
    }, (n) => `${n} orchestrators cut off for 30 s`);

    await phase('metrics in Prometheus', async () => {
      const query = async (q: string) => ((await (await fetch(`${PROM}/api/v1/query?query=${encodeURIComponent(q)}`)).json()) as { data: { result: { metric: Record<string, string>; value: [number, string] }[] } }).data.result;
      const up = await eventually('3 orchestrator targets up', async () => {
        const r = await query('up{job="orchestrator"} == 1');
        return r.length >= 3 ? r : undefined;
      }, 60_000, 2000);
      check(up.length >= 3, `${up.length} orchestrator targets up`);
      const ops = await eventually('operations counted', async () => {
        // A counter lives in its process: the orchestrator SIGKILLed above took its counts with
        // it, and Prometheus kept what it scraped before (max over the run's window).
        const r = await query('sum by (type, outcome) (max_over_time(trove_operations_total[30m]))');
        return r.length ? r : undefined;
      }, 60_000, 2000);
      log(`   trove_operations_total: ${ops.map((o) => `${o.metric.type}/${o.metric.outcome}=${o.value[1]}`).join(', ')}`);
      check(ops.some((o) => o.metric.type === 'provisionInstance' || /provision/i.test(o.metric.type ?? '')), 'the provision is counted');
      const api5 = await query('sum(trove_api_requests_total)');
      check(Number(api5[0]?.value[1] ?? 0) > 0, `API requests counted (${api5[0]?.value[1]})`);
      const sdk = await query('sum(temporal_workflow_completed_total)');
      check(Number(sdk[0]?.value[1] ?? 0) > 0, `SDK metrics scraped (workflows completed: ${sdk[0]?.value[1]})`);
      const failovers = await query('sum(trove_automatic_failovers_total)');
      log(`   trove_automatic_failovers_total: ${failovers[0]?.value[1] ?? 'none'}`);
      // The database servers' guest agents, found through the API's HTTP service discovery.
      const guests = await eventually('a guest agent target up', async () => {
        const r = await query('up{job="guests"} == 1');
        return r.length >= 1 ? r : undefined;
      }, 60_000, 2000);
      check(guests.every((g) => g.metric.trove_instance_id), `${guests.length} guest agents scraped, each labelled with its instance`);
      const guestActivities = await query('sum(trove_activities_total{job="guests"})');
      check(Number(guestActivities[0]?.value[1] ?? 0) > 0, `guest activities counted (${guestActivities[0]?.value[1]})`);
      const server = await query('up{job="temporal"}');
      check(server[0]?.value[1] === '1', 'the Temporal server\'s own metrics are scraped');
    });

    await phase('the Web UI, decoded through the codec server', async () => {
      const page = await fetch(`${UI}/`);
      check(page.status === 200 && /<html/i.test(await page.text()), 'the Web UI serves its page');
      const settings = (await (await fetch(`${UI}/api/v1/settings`)).json()) as { Codec?: { Endpoint?: string } };
      const endpoint = settings.Codec?.Endpoint ?? '';
      check(endpoint.startsWith(`${API}/codec/`), 'the UI is configured with the API\'s codec endpoint');
      // What the page does: read a history through the UI server, then decode it in the browser
      // through the codec endpoint (a CORS request from the UI's origin).
      const wf = `provision-instance-${source}`;
      const events = (await (await fetch(`${UI}/api/v1/namespaces/default/workflows/${wf}/history?maximumPageSize=5`)).json()) as { history?: { events?: any[] } };
      const input = events.history?.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
      check(input && Buffer.from(input.metadata.encoding, 'base64').toString() === ENCRYPTED_ENCODING, 'the UI server sees the stored input as ciphertext');
      const res = await fetch(`${endpoint}/decode`, { method: 'POST', headers: { 'Content-Type': 'application/json', Origin: UI }, body: JSON.stringify({ payloads: [input] }) });
      check(res.status === 200 && res.headers.get('access-control-allow-origin') === UI, `the codec server answers the UI's origin (${res.status})`);
      const plain = (await res.json()) as { payloads: { data: string }[] };
      const text = Buffer.from(plain.payloads[0]!.data, 'base64').toString();
      check(text.includes('deployed'), 'the decoded input names the instance');
      return screenshot(wf);
    }, (shot) => shot ?? 'no screenshot');

    await phase('delete everything', async () => {
      // Replicas before their source (a source with replicas is refused), each gone before the next.
      for (const id of [source, other, newSource.promoted]) {
        const res = await api('DELETE', `/v1.0/${TENANT}/instances/${id}`);
        check(res.status === 202, `delete ${id} answered 202 (${res.status}${res.status === 202 ? '' : `: ${JSON.stringify(res.body)}`})`);
        await eventually(`${id} gone`, async () => ((await show(id)) === undefined ? true : undefined), 180_000, 1000);
      }
      await eventually('every instance gone', async () => ((await api('GET', `/v1.0/${TENANT}/instances`)).body.instances.length === 0 ? true : undefined), 240_000, 1000);
      await eventually('no server container left', async () => (docker('ps', '-a', '--filter', `label=${DOCKER_LABEL}=${NETWORK}`, '--format', '{{.Names}}') === '' ? true : undefined), 60_000, 1000);
      check(docker('volume', 'ls', '--filter', `label=${DOCKER_LABEL}=${NETWORK}`, '--format', '{{.Name}}') === '', 'no server volume left');
    });
  } finally {
    await connection.close();
  }

  if (process.env.KEEP_STACK) {
    log('KEEP_STACK set: the stack stays up');
  } else {
    await phase('compose down -v: nothing of the project left', async () => {
      compose('down', '-v', '--remove-orphans');
      const label = `label=com.docker.compose.project=${PROJECT}`;
      check(docker('ps', '-a', '--filter', label, '--format', '{{.Names}}') === '', 'no container of the project');
      check(docker('volume', 'ls', '--filter', label, '--format', '{{.Name}}') === '', 'no volume of the project');
      check(docker('network', 'ls', '--filter', `name=^${NETWORK}$`, '--format', '{{.Name}}') === '', `no network ${NETWORK}`);
      check(docker('ps', '-a', '--filter', `label=${DOCKER_LABEL}=${NETWORK}`, '--format', '{{.Names}}') === '', 'no database server container');
    });
  }
  const total = (Date.now() - started) / 1000;
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  writeFileSync(path.join(OUT, 'test-deploy-times.json'), JSON.stringify({ at: new Date().toISOString(), load, total, times }, null, 2));
  log(`all phases passed in ${total.toFixed(0)} s (load ${load})`);
  for (const t of times) log(`   ${t.seconds.toFixed(1).padStart(7)} s  ${t.phase}${t.note ? `  [${t.note}]` : ''}`);
}

/** A headless Chromium screenshot of the workflow's page (input decoded by the codec server), when chromium is installed. */
async function screenshot(workflowId: string): Promise<string | undefined> {
  const chromium = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
  if (!chromium) return undefined;
  const file = path.join(OUT, 'web-ui-decoded.png');
  const profile = path.join(OUT, 'chromium-profile');
  sh([
    chromium, '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync',
    `--user-data-dir=${profile}`, '--window-size=1400,1000', '--virtual-time-budget=15000', `--screenshot=${file}`,
    `${UI}/namespaces/default/workflows/${workflowId}`,
  ], { quiet: true });
  return existsSync(file) ? path.relative(REPO_ROOT, file) : undefined;
}

main().catch((err: unknown) => {
  log(`FAILED: ${err instanceof Error ? err.message : String(err)}`);
  for (const t of times) log(`   ${t.seconds.toFixed(1).padStart(7)} s  ${t.phase}`);
  log(`the stack is left up for a look: ${COMPOSE.join(' ')} logs / ps; ${COMPOSE.join(' ')} down -v to remove it`);
  process.exit(1);
});

