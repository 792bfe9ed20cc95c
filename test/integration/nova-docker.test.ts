// Database servers as containers (NOVA_DRIVER=docker) on the real stack: each server is a
// trove/db-server container on its own docker network address with its own volume, and the
// snapshots go through Swift (no shared disk). Provision with data, one replica with equal
// checksums, the fault API as real docker faults (pause, network disconnect, a killed guest
// agent), `docker kill` of the source under automatic failover, then delete everything:
// no container, volume or network left.
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createConnection, type Connection } from 'mysql2/promise';
import type { SnapshotMeta } from '../../activities/snapshots/store';
import { containerName, DOCKER_LABEL, subnetHosts } from '../../nova/drivers/docker';
import { ensureImages } from '../../scripts/images/images';
import { createServerNetwork, type ServerNetwork } from '../../scripts/stack/docker-network';
import { startLocalSwift, type LocalSwift } from '../../scripts/stack/swift';
import { activityResult } from '../helpers/histories';
import { checkInvariants, swiftObjectsLeft } from '../helpers/invariants';
import { dockerLeftovers } from '../helpers/leftovers';
import { checksums } from '../helpers/mysql';
import { eventually, novaServerOf, showInstance, useTestStack, waitIdle, type TestStackOptions } from '../helpers/stack';

/** Why docker cannot run here, or undefined when it can. */
function dockerUnavailable(): string | undefined {
  try {
    execFileSync('docker', ['info', '--format', '{{.ServerVersion}}'], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 });
    return undefined;
  } catch (err) {
    return String((err as { stderr?: Buffer }).stderr ?? (err as Error).message).trim().split('\n')[0] || 'docker info failed';
  }
}

const unavailable = dockerUnavailable();
if (unavailable) console.log(`nova-docker.test.ts skipped: docker cannot run here (${unavailable}); scripts/setup.sh installs and starts it as root`);
const dockerTest = unavailable ? test.skip : test;

const APP = { user: 'app', password: 'app-pass-9' };
const TABLES = ['shop.orders'];
let network: ServerNetwork | undefined;
let swift: LocalSwift | undefined;
let swiftDir: string;
// Filled by the beforeAll below, which runs before useTestStack's.
const stackOpts: TestStackOptions = { extraEnv: {} };

beforeAll(async () => {
  if (unavailable) return;
  const started = Date.now();
  await ensureImages(); // a few seconds when scripts/setup.sh built them
  console.log(`images ready in ${Date.now() - started} ms`);
  network = await createServerNetwork(`trove-test-${process.pid}`);
  swiftDir = mkdtempSync(path.join(os.tmpdir(), 'trove-swift-'));
  // The containers reach the host only at their network's gateway: Swift's proxy and
  // Temporal listen there; the orchestrator probes from there too.
  swift = await startLocalSwift({ dir: swiftDir, bindAddress: network.gateway, log: (part, line) => appendFileSync(path.join(swiftDir, 'swift.log'), `[${part}] ${line}\n`) });
  stackOpts.serviceAddress = network.gateway;
  Object.assign(stackOpts.extraEnv!, {
    NOVA_DRIVER: 'docker',
    NOVA_DOCKER_NETWORK: network.name,
    TROVE_SNAPSHOT_STORE: 'swift',
    ...swift.settings,
    TROVE_PROBE_ADDRESS: network.gateway,
  });
}, 600_000);

const env = unavailable ? undefined : useTestStack(stackOpts);

afterAll(async () => {
  await swift?.stop();
  if (swiftDir && !process.env.KEEP_TEST_DATA) rmSync(swiftDir, { recursive: true, force: true });
  await network?.remove();
});

const docker = (...args: string[]) => execFileSync('docker', args).toString().trim();
const nova = (serverId: string, fault: string) =>
  fetch(`${env!.stack.env.NOVA_URL}/_faults/servers/${serverId}/${fault}`, { method: 'POST', headers: { 'X-Auth-Token': env!.stack.env.NOVA_TOKEN! } });
const addressOf = async (id: string) => (await env!.registry!.instances.get(id))!.address!;
const app = (host: string, timeoutMs = 2000): Promise<Connection> => createConnection({ host, port: 3306, ...APP, database: 'shop', connectTimeout: timeoutMs });
const reachable = async (host: string) => {
  const c = await app(host, 1000).catch(() => undefined);
  c?.destroy();
  return c !== undefined;
};

async function action(id: string, body: unknown) {
  const res = await env!.api('POST', `/v1.0/proj-a/instances/${id}/action`, body);
  if (res.status !== 202) throw new Error(`action answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body;
}

let source: string;
let replica: string;

dockerTest('a server is a container at its own address on the network with its own volume; a replica built through Swift has the same data', async () => {
  const created = await env!.api('POST', '/v1.0/proj-a/instances', {
    instance: { name: 'boxed', flavorRef: '1', volume: { size: 1 }, databases: [{ name: 'shop' }], users: [{ name: APP.user, password: APP.password, databases: [{ name: 'shop' }] }] },
  });
  expect(created.status).toBe(202);
  source = created.body.instance.id;
  await waitIdle(env!, source);
  const serverId = await novaServerOf(env!, source);
  const address = await addressOf(source);
  expect([...subnetHosts(network!.subnet, network!.gateway)]).toContain(address);
  const name = containerName(serverId);
  expect(docker('inspect', name, '--format', `{{.State.Status}} {{(index .NetworkSettings.Networks "${network!.name}").IPAddress}}`)).toBe(`running ${address}`);
  expect(docker('volume', 'ls', '--filter', `label=${DOCKER_LABEL}=${network!.name}`, '--format', '{{.Name}}')).toBe(name);

  const c = await app(address);
  await c.query('CREATE TABLE orders (id INT PRIMARY KEY, v VARCHAR(40))');
  await c.query('INSERT INTO orders VALUES ?', [Array.from({ length: 2000 }, (_, i) => [i + 1, `row ${i + 1}`])]);
  await c.end();

  const rep = await action(source, { replicate: { count: 1 } });
  replica = rep.replicas[0].id;
  await env!.temporal.workflow.getHandle(rep.operation.id).result();
  await waitIdle(env!, replica);
  const snapshot = await activityResult<SnapshotMeta>(env!.temporal, rep.operation.id, 'createSnapshot');
  expect(snapshot?.dataset.location).toMatch(/^swift:\/\//);
  const expected = await checksums(env!.dataDir, serverId, TABLES);
  expect(await checksums(env!.dataDir, await novaServerOf(env!, replica), TABLES)).toEqual(expected);
  expect(await swiftObjectsLeft(env!.stack.env)).toEqual([]);
  expect(await checkInvariants(env!)).toEqual([]);
}, 300_000);

dockerTest('stop, start and a hard reboot: the container goes and comes back at the same address with its volume', async () => {
  const serverId = await novaServerOf(env!, replica);
  const name = containerName(serverId);
  const address = await addressOf(replica);
  const serverAction = async (body: unknown) => {
    const res = await fetch(`${env!.stack.env.NOVA_URL}/servers/${serverId}/action`, {
      method: 'POST',
      headers: { 'X-Auth-Token': env!.stack.env.NOVA_TOKEN!, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(202);
  };
  const status = (wanted: string) => eventually(`server ${wanted}`, async () => (await env!.nova.getServer(serverId))?.status === wanted, 90_000);
  const before = await checksums(env!.dataDir, serverId, TABLES);

  await serverAction({ 'os-stop': null });
  await status('SHUTOFF');
  expect(docker('inspect', name, '--format', '{{.State.Status}}')).toBe('exited');
  expect(await reachable(address)).toBe(false);
  await serverAction({ 'os-start': null });
  await status('ACTIVE');
  await serverAction({ reboot: { type: 'HARD' } });
  await status('ACTIVE');
  expect(docker('inspect', name, '--format', `{{.State.Status}} {{(index .NetworkSettings.Networks "${network!.name}").IPAddress}}`)).toBe(`running ${address}`);
  await eventually('mariadbd answers again', () => reachable(address), 60_000);
  expect(await checksums(env!.dataDir, serverId, TABLES)).toEqual(before);
  await waitIdle(env!, replica);
}, 240_000);

dockerTest('the fault API acts on the container: pause, network disconnect, a killed guest agent', async () => {
  const serverId = await novaServerOf(env!, replica);
  const name = containerName(serverId);
  const address = await addressOf(replica);

  expect((await nova(serverId, 'hang')).status).toBe(202);
  expect(docker('inspect', name, '--format', '{{.State.Status}}')).toBe('paused');
  expect((await nova(serverId, 'resume')).status).toBe(202);
  expect(docker('inspect', name, '--format', '{{.State.Status}}')).toBe('running');

  expect((await nova(serverId, 'disconnect')).status).toBe(202);
  expect(await reachable(address)).toBe(false);
  expect((await env!.nova.getServer(serverId))?.status).toBe('ACTIVE'); // a cut cable is no power cut
  expect((await nova(serverId, 'reconnect')).status).toBe(202);
  await eventually('the replica answers again at its address', () => reachable(address), 10_000);

  const pidFile = path.join(env!.dataDir, 'servers', serverId, 'guest.pid');
  const before = readFileSync(pidFile, 'utf8');
  expect((await nova(serverId, 'kill-guest')).status).toBe(202);
  await eventually('the init restarted the guest agent', async () => readFileSync(pidFile, 'utf8') !== before, 15_000);
  expect(await reachable(address)).toBe(true); // mariadbd kept running
}, 120_000);

dockerTest('docker kill of the source under automatic failover: the replica takes over', async () => {
  const settings = await env!.api('PATCH', `/v1.0/proj-a/instances/${source}/replication`, { replication: { auto_failover: true, failover_after: 2 } });
  expect(settings.status).toBe(200);
  const sourceServer = await novaServerOf(env!, source);
  const killedAt = Date.now();
  docker('kill', containerName(sourceServer));
  await eventually('the replica took over', async () => {
    const i = await showInstance(env!, replica);
    return i?.status === 'ACTIVE' && !i.operation && !i.replica_of && i.writable ? i : undefined;
  }, 90_000);
  console.log(`docker kill to new source: ${Date.now() - killedAt} ms`);
  expect((await showInstance(env!, source)).status).toBe('ERROR');
  expect((await env!.nova.getServer(sourceServer))?.status).toBe('SHUTOFF');
  const c = await app(await addressOf(replica));
  await c.query('INSERT INTO orders VALUES (?, ?)', [9001, 'after failover']);
  const [rows] = await c.query('SELECT COUNT(*) AS n FROM orders');
  await c.end();
  expect((rows as { n: number }[])[0]!.n).toBe(2001);
}, 180_000);

dockerTest('delete everything: no container and no volume left', async () => {
  for (const id of [source, replica]) expect((await env!.api('DELETE', `/v1.0/proj-a/instances/${id}`)).status).toBe(202);
  await eventually('both instances gone', async () => (await showInstance(env!, source)) === undefined && (await showInstance(env!, replica)) === undefined, 90_000);
  await eventually('Nova has no server', async () => (await env!.nova.listServers()).length === 0, 30_000);
  expect(dockerLeftovers(network!.name)).toEqual({ containers: [], volumes: [] });
  expect(docker('ps', '-a', '--filter', `network=${network!.name}`, '--format', '{{.Names}}')).toBe('');
  expect(await checkInvariants(env!)).toEqual([]);
}, 180_000);
