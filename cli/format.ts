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
  fault: (v, out) => void (out.fault = String((v as { message?: unknown })?.message ?? JSON.stringify(v))),
  // Replication fields print as ids; replicates_from/replicates_to (id arrays) and
  // writable (a boolean) already read well through genericValue.
  replica_of: (v, out) => void (out.replica_of = idOf(v) ?? String(v)),
  replicas: (v, out) => void (out.replicas = genericValue(v)),
  topology: (v, out) => {
    const members = (v as { members?: unknown })?.members;
    if (!Array.isArray(members)) return void (out.topology = JSON.stringify(v));
    out.topology = members.map(topologyMember).join('; ');
  },
  operation: (v, out) => {
    const op = v as { type?: unknown; phase?: unknown; id?: unknown };
    const type = op?.type ?? op?.id ?? 'unknown';
    out.operation = op?.phase ? `${type} (${op.phase})` : String(type);
  },
};

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
