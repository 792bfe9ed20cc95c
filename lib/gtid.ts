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

/** A list of GTIDs, several per domain allowed: gtid_binlog_state keeps the last of each server. */
export function parseGtidList(text: string): Gtid[] {
  return text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)
    .map((part) => {
      const m = GTID.exec(part);
      if (!m) throw new GtidParseError(`"${part}" is not a MariaDB GTID (domain-server-seq)`);
      return { domain: Number(m[1]), server: Number(m[2]), seq: Number(m[3]) };
    });
}

export function parseGtidPosition(text: string): GtidPosition {
  const pos = new Map<number, Gtid>();
  for (const g of parseGtidList(text)) {
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

/** Transactions one server wrote that another lacks: seq after `afterSeq` up to `lastSeq`, in one domain. */
export interface ErrantRange {
  domain: number;
  server: number;
  /** The last of this server's transactions the other has (0: none of them). */
  afterSeq: number;
  lastSeq: number;
  /** domain-server-seq of the first and the last (one when they are the same). */
  gtids: string;
}

/**
 * What a former source wrote that the set's current source never received (errant GTIDs),
 * from each one's gtid_binlog_state (the last GTID of each domain and server). Positions
 * (gtid_binlog_pos, one GTID per domain) cannot tell: once the new source writes, its
 * position in the domain passes the old one's, which compareGtid then calls "behind".
 * `known` is everything the current source has: its binlog state and its replica
 * position (a replica restored from a snapshot has binlogged nothing of the old source yet).
 * In gtid_strict_mode a server's GTIDs in a domain arrive in order, so having its seq N
 * means having every earlier one of it.
 */
export function errantTransactions(own: readonly Gtid[], known: readonly Gtid[]): ErrantRange[] {
  const has = (domain: number, server: number) => Math.max(0, ...known.filter((g) => g.domain === domain && g.server === server).map((g) => g.seq));
  return own
    .filter((g) => g.seq > has(g.domain, g.server))
    .map((g) => {
      const afterSeq = has(g.domain, g.server);
      // seq numbers are the domain's, shared by its servers: the range holds whatever of this server's fall in it.
      const first = afterSeq + 1;
      const gtids = first === g.seq ? `${g.domain}-${g.server}-${g.seq}` : `${g.domain}-${g.server}-${first}..${g.domain}-${g.server}-${g.seq}`;
      return { domain: g.domain, server: g.server, afterSeq, lastSeq: g.seq, gtids };
    })
    .sort((a, b) => a.domain - b.domain || a.server - b.server);
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
