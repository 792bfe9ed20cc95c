// MariaDB GTID positions ("0-101-12,1-102-5": one domain-server-seq per replication
// domain) and the comparisons failover needs. MariaDB has no GTID_SUBSET(), so this is the
// set arithmetic, kept pure for tests (and importable by workflows).

export interface Gtid {
  domain: number;
  server: number;
  seq: number;
}

/** One GTID per domain, as gtid_slave_pos, gtid_binlog_pos and Gtid_IO_Pos report them. */
export type GtidPosition = ReadonlyMap<number, Gtid>;

const GTID = /^(\d+)-(\d+)-(\d+)$/;

export class GtidParseError extends Error {}

export function parseGtidPosition(text: string): GtidPosition {
  const pos = new Map<number, Gtid>();
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const m = GTID.exec(part);
    if (!m) throw new GtidParseError(`"${part}" is not a MariaDB GTID (domain-server-seq)`);
    const g = { domain: Number(m[1]), server: Number(m[2]), seq: Number(m[3]) };
    if (pos.has(g.domain)) throw new GtidParseError(`domain ${g.domain} appears twice in "${text}"`);
    pos.set(g.domain, g);
  }
  return pos;
}

export function formatGtidPosition(pos: GtidPosition): string {
  return [...pos.values()]
    .sort((a, b) => a.domain - b.domain)
    .map((g) => `${g.domain}-${g.server}-${g.seq}`)
    .join(',');
}

/** True when a has applied everything b names (per domain, seq_no at least as high). */
export function includes(a: GtidPosition, b: GtidPosition): boolean {
  for (const [domain, g] of b) if ((a.get(domain)?.seq ?? 0) < g.seq) return false;
  return true;
}

export type Comparison = 'equal' | 'ahead' | 'behind' | 'diverged';

/** How a stands to b: ahead (a includes b and more), behind, equal, or diverged (each has what the other lacks). */
export function compareGtid(a: GtidPosition, b: GtidPosition): Comparison {
  const aInB = includes(b, a);
  const bInA = includes(a, b);
  if (aInB && bInA) return 'equal';
  if (bInA) return 'ahead';
  if (aInB) return 'behind';
  return 'diverged';
}

/** How many transactions `replica` still lacks to reach `source`, over every domain. */
export function transactionsBehind(replica: GtidPosition, source: GtidPosition): number {
  let behind = 0;
  for (const [domain, g] of source) behind += Math.max(0, g.seq - (replica.get(domain)?.seq ?? 0));
  return behind;
}

/** Per domain, the later of two positions: what a replica has received or applied. */
export function union(a: GtidPosition, b: GtidPosition): GtidPosition {
  const out = new Map(a);
  for (const [domain, g] of b) if ((out.get(domain)?.seq ?? -1) < g.seq) out.set(domain, g);
  return out;
}

/**
 * Transactions a replica wrote itself: its binlog holds GTIDs that replication never gave
 * it. With gtid_strict_mode such a replica would break the new topology if promoted.
 */
export function errantDomains(binlogPos: GtidPosition, replicatedPos: GtidPosition): number[] {
  return [...binlogPos.values()].filter((g) => g.seq > (replicatedPos.get(g.domain)?.seq ?? 0)).map((g) => g.domain);
}

/**
 * The part of `target` a server still has to apply, given its own gtid_binlog_pos: the
 * domains its binlog does not reach yet. A side of a master-master pair never applies its
 * own writes back (they carry its server_id), so its gtid_slave_pos lacks them: waiting
 * (MASTER_GTID_WAIT) for those would wait forever, and they are in its binlog already.
 */
export function stillToApply(target: string, ownBinlogPos: string): string {
  const own = parseGtidPosition(ownBinlogPos);
  const rest = new Map([...parseGtidPosition(target)].filter(([domain, g]) => (own.get(domain)?.seq ?? -1) < g.seq));
  return formatGtidPosition(rest);
}
