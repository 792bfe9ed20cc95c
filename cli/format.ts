// troveclient-style output: Property/Value tables and column lists, no colours so the
// output stays greppable and stable in tests.
import Table from 'cli-table3';

const plain = { head: [] as string[], border: [] as string[] };

type Flattener = (value: unknown, out: Record<string, string>) => void;

const idOf = (v: unknown) => (v && typeof v === 'object' && 'id' in v ? String((v as { id: unknown }).id) : undefined);

// Nested fields get the compact forms troveclient prints; anything not listed here
// falls back to genericValue, so fields the API adds later still show up.
const FLATTENERS: Record<string, Flattener> = {
  links: () => {},
  // Its own table (pairTable); the property table names the sides only.
  pair: (v, out) => {
    const p = v as { active?: { name?: unknown }; passive?: { name?: unknown } };
    out.pair = `active ${String(p?.active?.name ?? '?')}, passive ${String(p?.passive?.name ?? '?')}`;
  },
  flavor: (v, out) => void (out.flavor = idOf(v) ?? JSON.stringify(v)),
  volume: (v, out) => void (out.volume = String((v as { size?: unknown })?.size ?? JSON.stringify(v))),
  datastore: (v, out) => {
    const d = v as { type?: unknown; version?: unknown };
    if (d?.type !== undefined) out.datastore = String(d.type);
    if (d?.version !== undefined) out.datastore_version = String(d.version);
  },
  fault: (v, out) => {
    const f = v as { message?: unknown; created?: unknown };
    out.fault = String(f?.message ?? JSON.stringify(v));
    if (f?.created !== undefined) out.fault_date = String(f.created);
  },
  // Trove's addresses read as "127.0.1.5 (private)"; access as troveclient's "public" row.
  addresses: (v, out) => {
    if (!Array.isArray(v)) return void (out.addresses = JSON.stringify(v));
    out.addresses = (v as { address?: unknown; type?: unknown }[]).map((a) => `${String(a?.address)}${a?.type ? ` (${String(a.type)})` : ''}`).join(', ');
  },
  access: (v, out) => void (out.public = String((v as { is_public?: unknown })?.is_public ?? false)),
  // Replication fields print as ids; replicates_from/replicates_to (id arrays) and
  // writable (a boolean) already read well through genericValue.
  replica_of: (v, out) => void (out.replica_of = idOf(v) ?? String(v)),
  replicas: (v, out) => void (out.replicas = genericValue(v)),
  // The set's topology and health are tables of their own (setTables); a shape those
  // cannot read still shows up here rather than vanish.
  topology: (v, out) => {
    if (!Array.isArray((v as { members?: unknown })?.members)) out.topology = JSON.stringify(v);
  },
  replication_health: (v, out) => {
    if (!Array.isArray(v)) out.replication_health = JSON.stringify(v);
  },
  // That the set replicates over TLS, not the CA's PEM (--json has it, for a client's `ssl: { ca }`).
  // The zone profile the set follows (DR): its name and zones; --json has its id.
  zone_profile: (v, out) => {
    const p = v as { name?: unknown; primary_zone?: unknown; dr_zones?: unknown };
    out.zone_profile = p?.primary_zone ? `${String(p.name)} (primary ${String(p.primary_zone)}, DR ${Array.isArray(p.dr_zones) ? p.dr_zones.join(', ') : '?'})` : String(p?.name ?? JSON.stringify(v));
  },
  tls: (v, out) => void (out.tls = (v as { enabled?: unknown })?.enabled ? 'on (every link verified; CA certificate in --json)' : 'off'),
  replaced_by: (v, out) => void (out.replaced_by = idOf(v) ?? String(v)),
  // The errant GTIDs its last rebuild as a replica reported (discarded), or that there were none.
  errant_gtids: (v, out) => {
    const e = v as { gtids?: unknown; operation?: unknown };
    out.errant_gtids = Array.isArray(e?.gtids) ? (e.gtids.length ? e.gtids.join(', ') : 'none') : JSON.stringify(v);
  },
  operation: (v, out) => {
    const op = v as OperationFields;
    const type = op?.type ?? op?.id ?? 'unknown';
    const details = [op?.phase, progressText(op?.restored_bytes, op?.seconds_behind, op?.transactions_behind)].filter(Boolean);
    out.operation = details.length ? `${String(type)} (${details.join(', ')})` : String(type);
  },
};

/** The operation on an instance view; a building replica's carries its bytes restored and lag. */
export interface OperationFields {
  id?: unknown;
  type?: unknown;
  phase?: unknown;
  restored_bytes?: unknown;
  seconds_behind?: unknown;
  transactions_behind?: unknown;
}

export interface MemberHealth {
  availability_zone?: unknown;
  source_zone?: unknown;
  across_zones?: unknown;
  id?: unknown;
  name?: unknown;
  role?: unknown;
  reachable?: unknown;
  agent_answered?: unknown;
  io_running?: unknown;
  sql_running?: unknown;
  seconds_behind?: unknown;
  transactions_behind?: unknown;
  last_io_error?: unknown;
  last_sql_error?: unknown;
  tls_problem?: unknown;
  observed?: unknown;
}

interface TopologyMember {
  id?: unknown;
  name?: unknown;
  role?: unknown;
  mysql?: { slave_of?: unknown };
  availability_zone?: unknown;
}

const yesNo = (v: unknown) => (v === true ? 'yes' : v === false ? 'no' : '?');
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** 1536 -> "1.5 KiB": bytes in the largest binary unit that keeps a number >= 1. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** "12 trx / 3 s": what is known of a replica's lag, or '' when nothing is. */
export function lagText(seconds: unknown, transactions: unknown): string {
  const parts = [isNumber(transactions) ? `${transactions} trx` : '', isNumber(seconds) ? `${seconds} s` : ''];
  return parts.filter(Boolean).join(' / ');
}

/** "12.0 MiB restored, lag 12 trx / 3 s": a building replica's progress in words. */
export function progressText(restoredBytes: unknown, seconds: unknown, transactions: unknown): string {
  const lag = lagText(seconds, transactions);
  return [isNumber(restoredBytes) ? `${formatBytes(restoredBytes)} restored` : '', lag ? `lag ${lag}` : ''].filter(Boolean).join(', ');
}

function genericValue(v: unknown): string {
  if (Array.isArray(v)) {
    // Lists of references ({id, links}) read best as ids; scalars as they are.
    return v.map((x) => (x !== null && typeof x === 'object' ? (idOf(x) ?? JSON.stringify(x)) : String(x))).join(', ');
  }
  if (v !== null && typeof v === 'object') return idOf(v) ?? JSON.stringify(v);
  return String(v);
}

/** Instance view -> flat property map (null/undefined fields are left out, like unset ones). */
export function flattenView(view: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(view)) {
    if (value === null || value === undefined) continue;
    const f = FLATTENERS[key];
    if (f) f(value, out);
    else out[key] = genericValue(value);
  }
  return out;
}

// Fitting tables to the terminal. Widths count characters: the CLI prints ASCII and the
// box-drawing characters, one column each.

/** No table is wider than this, whatever the terminal. */
export const MAX_WIDTH = 100;

export interface Column {
  head: string;
  /** What a cell too long for its column does: wrap onto more lines, or get cut short with "…". */
  overflow?: 'wrap' | 'cut';
  /** The column shrinks below this only when the table cannot fit otherwise (default 6, or its content when narrower). */
  min?: number;
  /** This column gives its width first (down to its min), before the others do. */
  givesFirst?: boolean;
}

/** Narrowest a column ever gets, when even every column at its min does not fit. */
const FLOOR = 4;

const longestLine = (text: string) => Math.max(0, ...text.split('\n').map((l) => l.length));

/** text cut to `width` characters on one line, "…" marking the cut. */
export function cut(text: string, width: number): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length <= width ? line : `${line.slice(0, Math.max(0, width - 1))}…`;
}

/** text wrapped at spaces to `width`; a word longer than that is split. */
export function wrap(text: string, width: number): string {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    let current = '';
    for (let word of line.split(' ')) {
      while (word.length > width) {
        const room = current ? width - current.length - 1 : width;
        // Too little room left on this line for a useful piece: start the word on the next.
        if (room < Math.min(8, width)) {
          out.push(current);
          current = '';
          continue;
        }
        out.push(current ? `${current} ${word.slice(0, room)}` : word.slice(0, room));
        current = '';
        word = word.slice(room);
      }
      if (!current) current = word;
      else if (current.length + 1 + word.length <= width) current += ` ${word}`;
      else {
        out.push(current);
        current = word;
      }
    }
    out.push(current);
  }
  return out.join('\n');
}

/** How wide a table of these columns would print with no column shrunk (heads may wrap at spaces). */
export function naturalWidth(columns: Column[], rows: string[][]): number {
  const widths = columns.map((c, i) => Math.max(...c.head.split(/\s+/).map((w) => w.length), ...rows.map((r) => longestLine(r[i] ?? '')), 1));
  return widths.reduce((a, b) => a + b, 0) + 3 * columns.length + 1;
}

/**
 * A table at most `width` (and 100) columns wide. Columns keep their natural width when
 * everything fits; otherwise the widest column gives a character at a time until the table
 * fits: first heads wrap at their spaces, then the columns that give first shrink, then any,
 * down to their min, then (a very narrow terminal) down to 4. Cells are then wrapped or cut to their column.
 */
export function fitTable(columns: Column[], rows: string[][], width: number = MAX_WIDTH, opts: { compact?: boolean } = {}): string {
  const n = columns.length;
  const natural = columns.map((c, i) => Math.max(longestLine(c.head), ...rows.map((r) => longestLine(r[i] ?? '')), 1));
  const widths = [...natural];
  // Each column costs its content, a space either side and a border.
  let excess = widths.reduce((a, b) => a + b, 0) + 3 * n + 1 - Math.min(width, MAX_WIDTH);
  const shrink = (floor: (i: number) => number, may: (i: number) => boolean) => {
    while (excess > 0) {
      let pick = -1;
      for (let i = 0; i < n; i++) if (may(i) && widths[i]! > floor(i) && (pick < 0 || widths[i]! > widths[pick]!)) pick = i;
      if (pick < 0) return;
      widths[pick]! -= 1;
      excess -= 1;
    }
  };
  // First a head longer than its cells wraps at its spaces ("Datastore Version" over "10.11").
  const headWord = (i: number) => Math.max(...columns[i]!.head.split(/\s+/).map((w) => w.length), ...rows.map((r) => longestLine(r[i] ?? '')), 1);
  shrink(headWord, () => true);
  const min = (i: number) => Math.min(natural[i]!, columns[i]!.min ?? 6);
  shrink(min, (i) => !!columns[i]!.givesFirst);
  shrink(min, () => true);
  shrink((i) => Math.min(natural[i]!, FLOOR), () => true);

  const fit = (text: string, i: number) => (columns[i]!.overflow === 'cut' ? cut(text, widths[i]!) : wrap(text, widths[i]!));
  const table = new Table({
    head: columns.map((c, i) => wrap(c.head, widths[i]!)),
    colWidths: widths.map((w) => w + 2),
    style: plain,
  });
  const cells = rows.map((row) => columns.map((_, i) => fit(row[i] ?? '', i)));
  for (const row of cells) table.push(row);
  const text = table.toString();
  // Compact, for short tables of one-line rows: the rule under the head stays, those between
  // rows go. A row wrapped onto several lines keeps them, or it would read as several rows.
  if (!opts.compact || cells.some((row) => row.some((cell) => cell.includes('\n')))) return text;
  let rules = 0;
  return text
    .split('\n')
    .filter((line) => !line.startsWith('├') || rules++ === 0)
    .join('\n');
}

export function propertyTable(props: Record<string, string>, width: number = MAX_WIDTH): string {
  const rows = Object.keys(props)
    .sort()
    .map((key) => [key, props[key]!]);
  return fitTable([{ head: 'Property', min: 12 }, { head: 'Value', min: 20 }], rows, width);
}

export function listTable(head: string[], rows: string[][], width: number = MAX_WIDTH): string {
  return fitTable(
    head.map((h) => ({ head: h })),
    rows,
    width,
  );
}

/** The set's members, one row each: who they are, their role, whom they replicate from. */
export function topologyTable(view: Record<string, unknown>, width: number = MAX_WIDTH): string | undefined {
  const members = (view.topology as { members?: unknown } | undefined)?.members;
  if (!Array.isArray(members) || members.length === 0) return undefined;
  const list = members as TopologyMember[];
  const names = new Map(list.map((m) => [String(m?.id), String(m?.name ?? m?.id ?? '?')]));
  // Where each member is, when the API says (0.2.0): a DR set's members span zones.
  const zoned = list.some((m) => m?.availability_zone !== undefined);
  const rows = list.map((m) => {
    const slaveOf = m?.mysql?.slave_of;
    const from = Array.isArray(slaveOf) ? idOf(slaveOf[0]) : undefined;
    const self = m?.id !== undefined && String(m.id) === String(view.id);
    return [`${String(m?.name ?? '?')}${self ? ' *' : ''}`, String(m?.id ?? '?'), String(m?.role ?? ''), from ? (names.get(from) ?? from) : '', ...(zoned ? [String(m?.availability_zone ?? '?')] : [])];
  });
  const heading = cut(`Topology: ${list.length} member${list.length === 1 ? '' : 's'} (* this instance)`, width);
  const table = fitTable([{ head: 'Member', min: 10 }, { head: 'ID', min: 36 }, { head: 'Role', min: 8 }, { head: 'Replicates from', min: 10 }, ...(zoned ? [{ head: 'Zone', min: 4 }] : [])], rows, width, { compact: true });
  return `${heading}\n${table}`;
}

/** What the set's monitor last saw of each member: one row each, the last error cut short. */
export function healthTable(view: Record<string, unknown>, width: number = MAX_WIDTH): string | undefined {
  const health = view.replication_health;
  if (!Array.isArray(health) || health.length === 0) return undefined;
  // In the topology's order when there is one (the source first), as the monitor lists them otherwise.
  const members = (view.topology as { members?: unknown } | undefined)?.members;
  const order = new Map(Array.isArray(members) ? (members as TopologyMember[]).map((m, i) => [String(m?.id), i] as const) : []);
  const rank = (m: MemberHealth) => order.get(String(m?.id)) ?? order.size;
  const list = (health as MemberHealth[]).map((m, i) => ({ m, i })).sort((a, b) => rank(a.m) - rank(b.m) || a.i - b.i).map(({ m }) => m);
  const rows = list.map((m) => {
    // Replication fields all null: the member does not replicate (the source), so "-".
    const replicates = [m?.io_running, m?.sql_running, m?.seconds_behind, m?.transactions_behind].some((x) => x !== null && x !== undefined);
    const known = (v: unknown) => (v === null || v === undefined ? '?' : String(v));
    const error = String(m?.last_io_error || m?.last_sql_error || '');
    return [
      String(m?.name ?? m?.id ?? '?'),
      String(m?.role ?? ''),
      yesNo(m?.reachable),
      replicates ? `${yesNo(m?.io_running)}/${yesNo(m?.sql_running)}` : '-',
      replicates ? `${known(m?.transactions_behind)} trx / ${known(m?.seconds_behind)} s${m?.across_zones === true ? ` (${String(m.source_zone)} -> ${String(m.availability_zone)})` : ''}` : '-',
      // A link that should be TLS and is not: shown where an error would be.
      error || (m?.tls_problem ? 'plain link in a TLS set' : '') || (m?.agent_answered === false ? '(agent silent)' : ''),
    ];
  });
  const observed = list.map((m) => String(m?.observed ?? '')).filter(Boolean).sort().pop();
  const heading = cut(`Replication health${observed ? `, as the monitor saw it at ${observed}` : ''}`, width);
  const table = fitTable(
    [
      { head: 'Member', min: 10 },
      { head: 'Role', min: 7 },
      { head: 'Reachable', min: 9 },
      { head: 'IO/SQL', min: 7 },
      { head: 'Lag', min: 8 },
      { head: 'Last error', overflow: 'cut', min: 10, givesFirst: true },
    ],
    rows,
    width,
    { compact: true },
  );
  return `${heading}\n${table}`;
}

/** An instance as `show` prints it: its own fields, then its set's topology and health. */
export function instanceTables(view: Record<string, unknown>, width: number = MAX_WIDTH): string {
  return [propertyTable(flattenView(view), width), ...setTables(view, width)].join('\n\n');
}

/** The set's topology and health tables, when the view carries them. */
export function setTables(view: Record<string, unknown>, width: number = MAX_WIDTH): string[] {
  return [topologyTable(view, width), pairTable(view, width), healthTable(view, width)].filter((t): t is string => t !== undefined);
}

interface PairLink {
  from?: unknown;
  to?: unknown;
  io_running?: unknown;
  sql_running?: unknown;
  seconds_behind?: unknown;
  transactions_behind?: unknown;
}

/** A master-master pair: which side takes writes, and replication in each direction with its lag. */
export function pairTable(view: Record<string, unknown>, width: number = MAX_WIDTH): string | undefined {
  const pair = view.pair as { active?: { id?: unknown; name?: unknown }; passive?: { id?: unknown; name?: unknown }; replication?: unknown } | undefined;
  if (!pair || !Array.isArray(pair.replication)) return undefined;
  const names = new Map([pair.active, pair.passive].map((side) => [String(side?.id), String(side?.name ?? side?.id ?? '?')]));
  const known = (v: unknown) => (v === null || v === undefined ? '?' : String(v));
  const rows = (pair.replication as PairLink[]).map((l) => [
    names.get(String(l?.from)) ?? known(l?.from),
    names.get(String(l?.to)) ?? known(l?.to),
    `${yesNo(l?.io_running)}/${yesNo(l?.sql_running)}`,
    `${known(l?.transactions_behind)} trx / ${known(l?.seconds_behind)} s`,
  ]);
  const heading = cut(`Master-master pair: active ${names.get(String(pair.active?.id)) ?? '?'}, passive ${names.get(String(pair.passive?.id)) ?? '?'}`, width);
  return `${heading}\n${fitTable([{ head: 'From', min: 10 }, { head: 'To', min: 10 }, { head: 'IO/SQL' }, { head: 'Lag' }], rows, width, { compact: true })}`;
}

export function json(value: unknown): string {
  return JSON.stringify(value, null, 2);
}
