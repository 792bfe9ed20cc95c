// Faults and task statuses on the real stack: what `GET /instances/{id}` says while an
// operation runs (Trove's PROMOTE, SHUTDOWN) and after one failed after its 202 (a replica
// Nova could not build, a promote refused by pre-flight, a detach whose replica's agent cannot
// log in to MariaDB, an eject that found no replica to take over): a fault, on the instance acted on.
import { adminQuery } from '../helpers/mysql';
import { errorNextBuilds, eventually, startTestStack, waitForStatus, type TestStack } from '../helpers/stack';

let env: TestStack;
let master: string;
let r1: string;
let r2: string;

const show = async (id: string) => (await env.api('GET', `/v1.0/proj-a/instances/${id}`)).body?.instance;
const novaIdOf = async (id: string) => (await env.registry!.instances.get(id))!.novaServerId!;
const sql = async (id: string, statement: string) => adminQuery(env.dataDir, await novaIdOf(id), statement);

async function accepted(method: string, path: string, body?: unknown) {
  const res = await env.api(method, path, body);
  if (res.status !== 202) throw new Error(`${method} ${path} answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body;
}

/** The instance once no operation holds it or its set, and the fault (if any) matches. */
async function settled(id: string, fault?: RegExp) {
  return eventually(`${id} settled${fault ? ` with fault ${fault}` : ''}`, async () => {
    const i = await show(id);
    if (!i || i.operation) return undefined;
    if (fault && !fault.test(i.fault?.message ?? '')) return undefined;
    return i;
  }, 240_000);
}

/** Polls quickly (an operation's status lasts a second or two) until `found` says it has what it waits for. */
async function quickly<T>(what: string, read: () => Promise<T>, found: (v: T) => boolean): Promise<T> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const v = await read();
    if (found(v)) return v;
    if (Date.now() > deadline) throw new Error(`never saw ${what} (last: ${JSON.stringify(v)})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const seen = (id: string, status: string) => quickly(`${id} ${status}`, () => show(id), (i) => i?.status === status);

beforeAll(async () => {
  env = await startTestStack();
  const created = await accepted('POST', '/v1.0/proj-a/instances', { instance: { name: 'primary', flavorRef: '1', volume: { size: 1 }, databases: [{ name: 'shop' }] } });
  master = created.instance.id;
  await waitForStatus(env, master, 'ACTIVE');
}, 300_000);

afterAll(async () => {
  await env?.stop();
});

test('a replica Nova could not build is undone, and its reason is a fault on the source, which stays ACTIVE', async () => {
  await errorNextBuilds(env, 1);
  const res = await accepted('POST', '/v1.0/proj-a/instances', { instance: { name: 'r', replica_of: master, replica_count: 3 } });
  const ids: string[] = res.replicas.map((r: { id: string }) => r.id);
  const source = await settled(master, /not built/);
  expect(source.status).toBe('ACTIVE');
  expect(source.fault.message).toMatch(/^createReplicas: 1 of 3 replica\(s\) not built: r-\d \([0-9a-f-]+\): .*ERROR/);
  expect(Date.parse(source.fault.created)).toBeGreaterThan(Date.now() - 600_000);
  const kept: string[] = [];
  for (const id of ids) {
    const i = await show(id);
    if (i) kept.push(id);
    else expect(source.fault.message).toContain(id);
  }
  expect(kept).toHaveLength(2);
  for (const id of kept) expect(await show(id)).toMatchObject({ status: 'ACTIVE' });
  [r1, r2] = kept as [string, string];
}, 600_000);

test('a promote the pre-flight would refuse (a replica not replicating, as the monitor saw it) is refused before the 202; nothing changes', async () => {
  await sql(r2, 'STOP SLAVE');
  try {
    await eventually('the monitor sees r2 stopped', async () => (await show(master))?.replication_health?.some((h: { id: string; sql_running: boolean | null }) => h.id === r2 && h.sql_running === false), 30_000);
    const res = await env.api('POST', `/v1.0/proj-a/instances/${r1}/action`, { promote_to_replica_source: {} });
    expect(res.status).toBe(409);
    expect(res.body.conflictingRequest.message).toMatch(new RegExp(`^pre-flight failed, nothing was changed: .*\\(${r2}\\) is not replicating`));
    const candidate = await show(r1);
    expect(candidate).toMatchObject({ status: 'ACTIVE', replica_of: { id: master } });
    expect(candidate.operation).toBeUndefined();
  } finally {
    await sql(r2, 'START SLAVE');
  }
}, 300_000);

test('while a promote runs every member shows PROMOTE; once it succeeds, the candidate\'s fault is gone', async () => {
  // Both threads, as the pre-flight asks (lib/health.ts): right after START SLAVE the SQL thread runs while the IO thread still connects.
  await eventually('r2 replicating again', async () => (await show(master))?.replication_health?.every((h: { io_running: boolean | null; sql_running: boolean | null; role: string }) => h.role === 'source' || (h.io_running && h.sql_running)), 30_000);
  // As a promote that failed after its 202 leaves it (the API now refuses most before).
  await env.registry!.instances.update(r1, { fault: 'promote failed: an earlier attempt' });
  expect((await show(r1)).fault.message).toBe('promote failed: an earlier attempt');
  await accepted('POST', `/v1.0/proj-a/instances/${r1}/action`, { promote_to_replica_source: {} });
  const promoting = (list: { id: string; status: string }[]) => list.filter((i) => i.status === 'PROMOTE').map((i) => i.id).sort();
  const [candidate, former, listed] = await Promise.all([
    seen(r1, 'PROMOTE'),
    seen(master, 'PROMOTE'),
    // The list says so too, of every member.
    quickly('the list showing PROMOTE', async () => (await env.api('GET', '/v1.0/proj-a/instances')).body.instances, (list) => promoting(list).length === 3),
  ]);
  expect(candidate.operation).toMatchObject({ type: 'promoteToReplicaSource' });
  expect(former.operation).toMatchObject({ type: 'promoteToReplicaSource' });
  expect(promoting(listed)).toEqual([master, r1, r2].sort());
  const promoted = await settled(r1);
  expect(promoted).toMatchObject({ status: 'ACTIVE' });
  expect(promoted).not.toHaveProperty('replica_of');
  expect(promoted).not.toHaveProperty('fault');
}, 300_000);

test("a detach whose replica's agent cannot log in to MariaDB is a fault on the replica; deleting it shows SHUTDOWN", async () => {
  // The agent's own account locked (the watchdog would restart a stopped mariadbd).
  await sql(r2, "ALTER USER 'os_admin'@'localhost' ACCOUNT LOCK");
  await accepted('PATCH', `/v1.0/proj-a/instances/${r2}`, { instance: { replica_of: null } });
  const replica = await settled(r2, /detach failed/);
  expect(replica.status).toBe('ACTIVE');
  expect(replica.replica_of.id).toBe(r1);

  await accepted('DELETE', `/v1.0/proj-a/instances/${r2}`);
  const deleting = await seen(r2, 'SHUTDOWN');
  expect(deleting.operation).toMatchObject({ type: 'deleteInstance' });
  await eventually('r2 deleted', async () => (await env.api('GET', `/v1.0/proj-a/instances/${r2}`)).status === 404, 120_000);
}, 300_000);

test('an eject that fenced the source and found no replica to take over leaves the source in ERROR with the fault', async () => {
  // The only replica's server dies: nobody can take over.
  const crashed = await fetch(`${env.stack.env.NOVA_URL}/_faults/servers/${await novaIdOf(master)}/crash`, { method: 'POST', headers: { 'X-Auth-Token': env.stack.env.NOVA_TOKEN! } });
  expect(crashed.ok).toBe(true);
  await accepted('POST', `/v1.0/proj-a/instances/${r1}/action`, { eject_replica_source: { force: true } });
  const source = await settled(r1, /eject failed/);
  expect(source.status).toBe('ERROR');
  expect(source.fault.message).toMatch(/^eject failed: no replica can take over \(the old source stays fenced\)/);
}, 300_000);
