// `npm run bench [-- --quick] [--only build,overhead,failover,pairs,watch,watch-scale,resume] [--size-mib N] [--runs N] [--replicas 1,2,3]`
// Runs the benchmark sections one after the other on a quiet machine and rewrites
// bench/RESULTS.md from the latest result of every section (bench/results.json).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { machine, renderResults, type RecordedSection, type Section } from './lib/report';

export interface BenchOptions {
  quick: boolean;
  runs: number;
  sizeMiB: number;
  /** Replica counts the build section measures (default 1, 2, 3; fewer for a quick look at one). */
  replicaCounts: number[];
  /** Idle time before each replica-build measurement (bench/README.md, "This machine"). */
  settleS: number;
  log: (line: string) => void;
}

type SectionRunner = (opts: BenchOptions) => Promise<Section[]>;

// Overhead first: measured in milliseconds, it is the section most disturbed by the memory
// the build section frees just before (bench/README.md, "This machine").
const SECTIONS: Record<string, () => Promise<SectionRunner>> = {
  overhead: async () => (await import('./overhead')).benchOverhead,
  build: async () => (await import('./replica-build')).benchReplicaBuild,
  failover: async () => (await import('./failover')).benchFailover,
  pairs: async () => (await import('./pair-switchover')).benchPairSwitchover,
  watch: async () => (await import('./watch')).benchWatch,
  'watch-scale': async () => (await import('./watch-scale')).benchWatchScale,
  resume: async () => (await import('./resume')).benchResume,
};

const RESULTS_JSON = path.join(__dirname, 'results.json');
const RESULTS_MD = path.join(__dirname, 'RESULTS.md');
const APPENDIX = path.join(__dirname, 'improvements.md');

const wholeNumber = (name: string, min: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be a whole number >= ${min}`);
  return n;
};
const positive = (name: string) => wholeNumber(name, 1);

async function main(): Promise<void> {
  const program = new Command('bench')
    .option('--quick', 'short run: 100 MiB source, 3 runs, fewer operations', false)
    .option('--only <sections>', `comma-separated subset of ${Object.keys(SECTIONS).join(', ')}`)
    .option('--size-mib <n>', 'InnoDB data on the source for the replica build (default 1024; quick 100)', positive('--size-mib'))
    .option('--runs <n>', 'repetitions of each measurement (default 3)', positive('--runs'))
    .option('--settle-s <n>', 'idle seconds before each replica-build measurement (default 12; quick 2)', wholeNumber('--settle-s', 0))
    .option('--replicas <list>', 'replica counts for the build section, comma-separated (default 1,2,3)', (v) => v.split(',').map((x) => positive('--replicas')(x.trim())))
    .parse();
  const o = program.opts<{ quick: boolean; only?: string; sizeMib?: number; runs?: number; replicas?: number[]; settleS?: number }>();
  const only = o.only ? o.only.split(',').map((s) => s.trim()) : Object.keys(SECTIONS);
  const unknown = only.filter((s) => !(s in SECTIONS));
  if (unknown.length) program.error(`--only: unknown section(s) ${unknown.join(', ')}; choose from ${Object.keys(SECTIONS).join(', ')}`);
  const opts: BenchOptions = {
    quick: o.quick,
    runs: o.runs ?? 3,
    sizeMiB: o.sizeMib ?? (o.quick ? 100 : 1024),
    replicaCounts: o.replicas ?? [1, 2, 3],
    settleS: o.settleS ?? (o.quick ? 2 : 12),
    log: (line) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}`),
  };
  const command = ['npm run bench', ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : [])].join(' ');
  const recorded: Record<string, RecordedSection> = existsSync(RESULTS_JSON) ? JSON.parse(readFileSync(RESULTS_JSON, 'utf8')) : {};
  for (const name of only) {
    opts.log(`section ${name}`);
    const started = Date.now();
    const sections = await (await SECTIONS[name]!())(opts);
    const durationS = (Date.now() - started) / 1000;
    for (const s of sections) recorded[s.id] = { ...s, date: new Date().toISOString(), command, machine: machine(), durationS };
    // Written after every section: a long run that dies late keeps what it measured.
    writeFileSync(RESULTS_JSON, JSON.stringify(recorded, null, 2) + '\n');
    const order = ['build', 'memory', 'overhead', 'failover', 'switchover', 'pair-switchover', 'watch', 'watch-scale', 'resume'];
    const all = Object.values(recorded).sort((a, b) => order.indexOf(a.id) - order.indexOf(b.id));
    writeFileSync(RESULTS_MD, renderResults(all, existsSync(APPENDIX) ? readFileSync(APPENDIX, 'utf8') : ''));
    for (const s of sections) for (const t of s.targets) opts.log(`${s.title}: ${t.what}: ${t.measured} ${t.met ? 'met' : 'MISSED'}`);
  }
  opts.log(`wrote ${path.relative(process.cwd(), RESULTS_MD)}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
