// What a probe's close costs the orchestrator's kernel (issue 17, bench/improvements.md
// section 13): connections from a bound source address (TROVE_PROBE_ADDRESS) to a listener
// in another process, 50 at once as a poll's probes, each ended after the greeting with a
// FIN (the closing side's port then waits a minute in TIME_WAIT) or with a reset (as
// probeGreeting does). Prints the CPU per connection as the waiting ports pile up.
//   npx tsx bench/probe-close.ts fin|reset [rounds]
// Run it alone, with a minute's pause before (earlier TIME_WAIT ports count too).
import { execFileSync, spawn } from 'node:child_process';
import net from 'node:net';
import { probeGreeting } from '../activities/compute/activities';

const ROUND = 2500;
const WIDTH = 50;

if (process.argv[2] === 'serve') {
  const server = net.createServer((s) => {
    s.on('error', () => undefined);
    s.write(Buffer.from([0x0a, 0x35, 0x2e, 0x35]));
  });
  server.listen(0, '127.0.0.1', () => console.log((server.address() as net.AddressInfo).port));
} else void main(process.argv[2] === 'fin' ? 'fin' : 'reset', Number(process.argv[3] ?? 8));

function finProbe(port: number): Promise<void> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port, localAddress: '127.0.0.1' });
    s.once('data', () => {
      s.destroy();
      resolve();
    });
    s.on('error', () => resolve());
  });
}

async function main(mode: 'fin' | 'reset', rounds: number): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', __filename, 'serve'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve) => child.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString()))));
  const probe = mode === 'fin' ? () => finProbe(port) : async () => void (await probeGreeting('127.0.0.1', port, '127.0.0.1', 1500));
  for (let r = 1; r <= rounds; r++) {
    const c0 = process.cpuUsage();
    for (let i = 0; i < ROUND / WIDTH; i++) await Promise.all(Array.from({ length: WIDTH }, probe));
    const c = process.cpuUsage(c0);
    const waiting = execFileSync('ss', ['-Htan', 'state', 'time-wait']).toString().split('\n').filter(Boolean).length;
    console.log(`${mode}: after ${r * ROUND} probes, CPU per probe ${((c.user + c.system) / ROUND).toFixed(0)} µs (system ${(c.system / ROUND).toFixed(0)} µs), ports in TIME_WAIT ${waiting}`);
  }
  child.kill();
}
