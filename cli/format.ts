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
  topology: (v, out) => {
    const members = (v as { members?: unknown })?.members;
    if (!Array.isArray(members)) return void (out.topology = JSON.stringify(v));
    out.topology = members.map(topologyMember).join('; ');
  },
  // One row per member, keyed "health: <name>", so the set reads at a glance in the table.
  replication_health: (v, out) => {
    if (!Array.isArray(v)) return void (out.replication_health = JSON.stringify(v));
    for (const m of v as MemberHealth[]) {
      let key = `health: ${String(m?.name ?? m?.id ?? '?')}`;
      if (key in out) key = `${key} (${String(m?.id)})`;
      out[key] = healthLine(m ?? {});
    }
  },
  operation: (v, out) => {
    const op = v as { type?: unknown; phase?: unknown; id?: unknown };
    const type = op?.type ?? op?.id ?? 'unknown';
    out.operation = op?.phase ? `${type} (${op.phase})` : String(type);
  },
};

interface MemberHealth {
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
}

const yesNo = (v: unknown) => (v === true ? 'yes' : v === false ? 'no' : '?');
const orUnknown = (v: unknown) => (v === null || v === undefined ? '?' : String(v));

/**
 * "replica, IO yes, SQL yes, behind 0 trx / 0 s": what the monitor last saw. Fields that
 * do not apply (null, e.g. threads on the source) are left out rather than printed as "?".
 */
function healthLine(m: MemberHealth): string {
  const parts = [String(m.role ?? 'member')];
  if (m.io_running != null || m.sql_running != null) parts.push(`IO ${yesNo(m.io_running)}, SQL ${yesNo(m.sql_running)}`);
  if (m.transactions_behind != null || m.seconds_behind != null) parts.push(`behind ${orUnknown(m.transactions_behind)} trx / ${orUnknown(m.seconds_behind)} s`);
  const error = m.last_io_error || m.last_sql_error;
  if (error) parts.push(`error: ${String(error)}`);
  // A healthy replica says so through its threads; the source has only reachability to show.
  if (m.reachable === false) parts.push('unreachable');
  else if (m.role === 'source' && m.reachable === true) parts.push('reachable');
  if (m.agent_answered === false) parts.push('agent silent');
  return parts.join(', ');
}

/** "name (id)", plus where it replicates from: the one-line form of a topology member. */
function topologyMember(m: unknown): string {
  const member = (m ?? {}) as { id?: unknown; name?: unknown; mysql?: { slave_of?: unknown } };
  const source = Array.isArray(member.mysql?.slave_of) ? idOf(member.mysql.slave_of[0]) : undefined;
  return `${String(member.name ?? '?')} (${String(member.id ?? '?')})${source ? ` <- replica of ${source}` : ''}`;
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

export function propertyTable(props: Record<string, string>): string {
  const table = new Table({ head: ['Property', 'Value'], style: plain });
  for (const key of Object.keys(props).sort()) table.push([key, props[key]]);
  return table.toString();
}

export function listTable(head: string[], rows: string[][]): string {
  const table = new Table({ head, style: plain });
  for (const row of rows) table.push(row);
  return table.toString();
}

export function json(value: unknown): string {
  return JSON.stringify(value, null, 2);
}
