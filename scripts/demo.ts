// npm run demo: the main job end to end through the trove CLI. Starts the stack, creates a
// master with a database and a user, writes rows as that user, adds 2 read replicas from
// one snapshot, shows the topology, checks a write reaches a replica, detaches one, prints
// the Temporal UI link, then deletes everything. --keep leaves the stack up (Ctrl-C to
// stop) so the workflows can be browsed in the Web UI.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { createConnection } from 'mysql2/promise';
import { REPO_ROOT } from '../lib/config';
import { freePort, startStack, type Stack } from './stack/stack';

const keep = process.argv.includes('--keep');

const isFree = (port: number) =>
  new Promise<boolean>((resolve) => {
    const srv = net.createServer().once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
const portOr = async (preferred: number) => ((await isFree(preferred)) ? preferred : freePort());

function banner(text: string): void {
  console.log(`\n=== ${text}`);
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(path.join(REPO_ROOT, '.data-demo-'));
  const temporalUiPort = await portOr(8233);
  banner(`starting the stack (data in ${dataDir})`);
  const stack: Stack = await startStack({
    dataDir,
    temporalPort: await portOr(7233),
    temporalUiPort,
    registryPort: await portOr(3307),
    novaPort: await portOr(8774),
    apiPort: await portOr(8779),
    metricsPorts: { orchestrator: await portOr(9464), orchestratorSdk: await portOr(9465), api: await portOr(9466) },
    temporalInMemory: true,
    log: () => undefined,
  });
  const cliEnv = { ...process.env, TROVE_URL: stack.env.TROVE_URL, TROVE_TOKEN: 'trove-local-token', TROVE_PROJECT: 'demo' };
  const trove = (...args: string[]) => {
    console.log(`$ trove ${args.join(' ')}`);
    return execFileSync(path.join(REPO_ROOT, 'cli', 'bin.js'), args, { env: cliEnv, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  };
  try {
    banner('create a master with a database and a user, and wait for it');
    process.stdout.write(trove('create', 'demo-db', '1', '--size', '1', '--databases', 'shop', '--users', 'shopper:demo-pass-1', '--wait'));
    const master = JSON.parse(trove('show', 'demo-db', '--json')) as { id: string; ip: string[]; port: number };

    banner(`write 1,000 rows as shopper@${master.ip[0]}:${master.port}`);
    const conn = await createConnection({ host: master.ip[0], port: master.port, user: 'shopper', password: 'demo-pass-1', database: 'shop' });
    await conn.query('CREATE TABLE IF NOT EXISTS orders (id INT PRIMARY KEY, item VARCHAR(40))');
    await conn.query('REPLACE INTO orders VALUES ?', [Array.from({ length: 1000 }, (_, i) => [i + 1, `item ${i + 1}`])]);
    const [[count]] = (await conn.query('SELECT COUNT(*) AS n FROM orders')) as unknown as [{ n: number }[]];
    console.log(`master holds ${count!.n} orders`);

    banner('add 2 read replicas from one snapshot of the master');
    process.stdout.write(trove('replicate', 'demo-db', '2', '--wait'));
    banner('the topology as the master shows it');
    process.stdout.write(trove('show', 'demo-db'));

    banner('a write on the master reaches the replicas; the replicas refuse writes');
    await conn.query("REPLACE INTO orders VALUES (1001, 'written after the snapshot')");
    const replica = JSON.parse(trove('show', 'demo-db-replica-1', '--json')) as { ip: string[] };
    const r = await createConnection({ host: replica.ip[0], port: 3306, user: 'shopper', password: 'demo-pass-1', database: 'shop' });
    for (let i = 0; i < 50; i++) {
      const [rows] = await r.query('SELECT item FROM orders WHERE id = 1001');
      if ((rows as unknown[]).length) {
        console.log('replica 1 has it:', rows);
        break;
      }
      await new Promise((res) => setTimeout(res, 100));
    }
    await r.query("INSERT INTO orders VALUES (5000, 'nope')").then(
      () => console.log('unexpected: the replica accepted a write'),
      (e: Error) => console.log(`replica 1 refuses writes: ${e.message}`),
    );
    await r.end();
    await conn.end();

    banner('detach replica 1 into an independent site');
    process.stdout.write(trove('detach_replication', 'demo-db-replica-1', '--wait'));
    process.stdout.write(trove('list'));
    banner(`Temporal Web UI: http://127.0.0.1:${temporalUiPort}/namespaces/default/workflows?query=${encodeURIComponent(`TroveReplicationSet="${master.id}"`)}`);

    if (keep) {
      console.log('--keep: the stack stays up; press Ctrl-C to delete everything and stop.');
      await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
    }
    banner('delete everything (replicas before their master)');
    for (const name of ['demo-db-replica-1', 'demo-db-replica-2', 'demo-db']) process.stdout.write(trove('delete', name, '--wait'));
    process.stdout.write(trove('list'));
  } finally {
    banner('stopping the stack');
    await stack.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
  console.log('\ndemo finished: nothing left behind.');
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
