// npm run demo: the main job end to end. Starts the stack, creates an instance with a
// database and a user through the trove CLI, writes and reads a row as that user, shows
// it, prints the Temporal UI link, then deletes everything. --keep leaves the stack up
// (Ctrl-C to stop) so the workflows can be browsed in the Web UI.
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
    temporalInMemory: true,
    log: () => undefined,
  });
  const cliEnv = { ...process.env, TROVE_URL: stack.env.TROVE_URL, TROVE_TOKEN: 'trove-local-token', TROVE_PROJECT: 'demo' };
  const trove = (...args: string[]) => {
    console.log(`$ trove ${args.join(' ')}`);
    return execFileSync(path.join(REPO_ROOT, 'cli', 'bin.js'), args, { env: cliEnv, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  };
  try {
    banner('create an instance with a database and a user, and wait for it');
    process.stdout.write(trove('create', 'demo-db', '1', '--size', '1', '--databases', 'shop', '--users', 'shopper:demo-pass-1', '--wait'));
    const shown = JSON.parse(trove('show', 'demo-db', '--json')) as { id: string; ip: string[]; port: number };

    banner(`write and read a row as shopper@${shown.ip[0]}:${shown.port}`);
    const conn = await createConnection({ host: shown.ip[0], port: shown.port, user: 'shopper', password: 'demo-pass-1', database: 'shop' });
    await conn.query('CREATE TABLE IF NOT EXISTS orders (id INT PRIMARY KEY, item VARCHAR(40))');
    await conn.query("REPLACE INTO orders VALUES (1, 'a durable book')");
    const [rows] = await conn.query('SELECT id, item FROM orders');
    console.log(rows);
    await conn.end();

    banner('the instance as the CLI lists it');
    process.stdout.write(trove('list'));
    banner(`Temporal Web UI: http://127.0.0.1:${temporalUiPort}/namespaces/default/workflows?query=${encodeURIComponent(`TroveInstance="${shown.id}"`)}`);

    if (keep) {
      console.log('--keep: the stack stays up; press Ctrl-C to delete the instance and stop.');
      await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
    }
    banner('delete it');
    process.stdout.write(trove('delete', 'demo-db', '--wait'));
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
