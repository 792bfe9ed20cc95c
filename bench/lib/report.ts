// The shape every benchmark section returns and how RESULTS.md is written from them.
// Sections can be run on their own (`--only`), so each keeps the date, command and
// machine of the run that produced it; results.json holds the latest of each.
import * as os from 'node:os';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface Target {
  what: string;
  /** The measured value in words, e.g. "1.14". */
  measured: string;
  met: boolean;
}

export interface Section {
  id: string;
  title: string;
  /** Markdown tables and notes, already rendered. */
  body: string;
  targets: Target[];
  /** Raw numbers, kept in results.json for later comparison. */
  raw: unknown;
}

export interface Machine {
  cpus: string;
  cores: number;
  memoryGiB: number;
  kernel: string;
  node: string;
  mariadb: string;
  /** Absent in results recorded before it was asked. */
  freePageReporting?: boolean;
}

export interface RecordedSection extends Section {
  date: string;
  command: string;
  machine: Machine;
  durationS: number;
}

export function machine(): Machine {
  const cpus = os.cpus();
  let mariadb = 'unknown';
  for (const bin of ['mariadbd', '/usr/sbin/mariadbd']) {
    try {
      mariadb = execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim().replace(/^\S*mariadbd\s+/, '');
      break;
    } catch {
      /* try the next one */
    }
  }
  return {
    freePageReporting: freePageReporting(),
    cpus: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    mariadb,
  };
}

/**
 * Whether this is a VM handing freed memory back to its host (virtio-balloon free page
 * reporting): there, the first touch of every page allocated afterwards faults into the
 * host, which made writing a fresh GiB cost ~1-3 s here, and is the main noise in the
 * replica build (bench/README.md).
 */
function freePageReporting(): boolean {
  try {
    return Number(readFileSync('/sys/module/page_reporting/parameters/page_reporting_order', 'utf8')) > 0;
  } catch {
    return false;
  }
}

/** A markdown table from a header and rows. */
export function table(header: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

const describeMachine = (m: Machine) =>
  `${m.cores} cores (${m.cpus}), ${m.memoryGiB} GiB memory${m.freePageReporting ? ' (a VM with free page reporting: freed memory goes back to the host)' : ''}, ${m.kernel}; Node ${m.node}; MariaDB ${m.mariadb}`;

export function renderResults(sections: RecordedSection[], appendix = ''): string {
  const targets = sections.flatMap((s) => s.targets.map((t) => [s.title, t.what, t.measured, t.met ? 'met' : '**missed**']));
  return [
    '# Benchmark results',
    '',
    'Written by `npm run bench` (see bench/README.md). Each figure is the median, the spread (min–max) and the number of runs.',
    '',
    '## Targets',
    '',
    table(['Section', 'Target', 'Measured', ''], targets),
    '',
    ...sections.flatMap((s) => [
      `## ${s.title}`,
      '',
      `- Date: ${s.date}; command: \`${s.command}\` (section took ${Math.round(s.durationS)} s)`,
      `- Machine: ${describeMachine(s.machine)}`,
      '',
      s.body,
      '',
    ]),
    appendix,
  ].join('\n');
}
