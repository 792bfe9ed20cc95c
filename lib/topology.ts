// A replication set as one model: members and directed links (a replica replicates from
// its upstream). Roles are derived from the links, never stored, so they cannot disagree
// with them. The registry stores exactly this; the monitor, the API views, the CLI and the
// invariant checker read sets through it; every operation changes a set by one of the
// transitions below, which validate what they produce. Pure.

export type Role = 'source' | 'replica' | 'relay' | 'co-master';

export interface TopologyMember {
  id: string;
  /** read_only off: the source, or a replica the user asked to keep writable (Trove's topology.read_only). */
  writable: boolean;
}

/** `replica` replicates from `source`. A member has at most one upstream. */
export interface Link {
  source: string;
  replica: string;
}

export interface Topology {
  setId: string;
  members: TopologyMember[];
  links: Link[];
  /** A declared master-master pair: the one cycle allowed. The active side is the writable one. */
  coMasters?: [string, string];
}

export interface TopologyLimits {
  /** Longest chain of links from the source to a replica (1: replicas of the source only). */
  maxDepth: number;
}

/** Replicas of replicas of replicas: deep enough for a relay per zone, shallow enough that lag stays readable. */
export const DEFAULT_LIMITS: TopologyLimits = { maxDepth: 3 };

export class TopologyError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('; '));
    this.name = 'TopologyError';
  }
}

export const upstreamOf = (t: Topology, id: string): string | null => t.links.find((l) => l.replica === id)?.source ?? null;
export const downstreamOf = (t: Topology, id: string): string[] => t.links.filter((l) => l.source === id).map((l) => l.replica);
export const isMember = (t: Topology, id: string): boolean => t.members.some((m) => m.id === id);
const isCoMaster = (t: Topology, id: string): boolean => Boolean(t.coMasters?.includes(id));

export function roleOf(t: Topology, id: string): Role {
  if (isCoMaster(t, id)) return 'co-master';
  if (upstreamOf(t, id) === null) return 'source';
  return downstreamOf(t, id).length > 0 ? 'relay' : 'replica';
}

/** The member that takes the set's writes: the root, or the writable side of a co-master pair. */
export function sourceOf(t: Topology): string | undefined {
  if (t.coMasters) return t.coMasters.find((id) => t.members.find((m) => m.id === id)?.writable);
  const roots = t.members.filter((m) => upstreamOf(t, m.id) === null);
  return roots.length === 1 ? roots[0]!.id : undefined;
}

/** Links from the source down to the member (0 for the source); undefined when it is cut off. */
export function depthOf(t: Topology, id: string): number | undefined {
  const source = sourceOf(t);
  let depth = 0;
  for (let at: string | null = id; at !== source; at = upstreamOf(t, at)) {
    if (at === null || depth > t.members.length) return undefined;
    depth++;
  }
  return depth;
}

/** The members that replicate from `id`, directly or through others, nearest first. */
export function subtreeOf(t: Topology, id: string): string[] {
  const out: string[] = [];
  for (let frontier = downstreamOf(t, id); frontier.length; frontier = frontier.flatMap((m) => downstreamOf(t, m))) {
    out.push(...frontier.filter((m) => !out.includes(m) && m !== id));
    if (out.length > t.members.length) break;
  }
  return out;
}

/** Every way the set breaks the rules; empty when it is sound. */
export function validateTopology(t: Topology, limits: TopologyLimits = DEFAULT_LIMITS): string[] {
  const problems: string[] = [];
  const ids = new Set(t.members.map((m) => m.id));
  if (ids.size !== t.members.length) problems.push('a member is listed twice');
  for (const l of t.links) {
    if (!ids.has(l.source) || !ids.has(l.replica)) problems.push(`link ${l.source} -> ${l.replica} names a member outside the set`);
    if (l.source === l.replica) problems.push(`${l.replica} replicates from itself`);
  }
  for (const id of ids) if (t.links.filter((l) => l.replica === id).length > 1) problems.push(`${id} replicates from more than one member`);
  if (t.coMasters) {
    const [a, b] = t.coMasters;
    if (!(upstreamOf(t, a) === b && upstreamOf(t, b) === a)) problems.push(`co-masters ${a} and ${b} must replicate from each other`);
    const writable = t.coMasters.filter((id) => t.members.find((m) => m.id === id)?.writable);
    if (writable.length !== 1) problems.push(`exactly one co-master takes writes (${writable.length} do)`);
  }
  const source = sourceOf(t);
  if (!t.coMasters) {
    const roots = t.members.filter((m) => upstreamOf(t, m.id) === null).map((m) => m.id);
    if (roots.length !== 1) problems.push(`a set has exactly one source (found ${roots.length ? roots.join(', ') : 'none'})`);
  }
  if (source && !t.members.find((m) => m.id === source)!.writable) problems.push(`the source ${source} does not take writes`);
  if (source) {
    for (const m of t.members) {
      if (isCoMaster(t, m.id)) continue;
      const depth = depthOf(t, m.id);
      if (depth === undefined) problems.push(`${m.id} is not connected to the source (a replication cycle?)`);
      else if (depth > limits.maxDepth) problems.push(`${m.id} is ${depth} links from the source; at most ${limits.maxDepth} allowed`);
    }
  }
  if (t.members.length < 2) problems.push('a set has at least two members');
  return problems;
}

function checked(t: Topology, limits: TopologyLimits): Topology {
  const problems = validateTopology(t, limits);
  if (problems.length) throw new TopologyError(problems);
  return t;
}

/** The set a standalone instance founds when it gets its first replicas: it is the source. */
export const standalone = (setId: string, sourceId: string): Topology => ({ setId, members: [{ id: sourceId, writable: true }], links: [] });

/**
 * The transition each operation makes. Each is a description (what the workflow records)
 * that `applyTransition` turns into the next topology, validated.
 */
export type Transition =
  /** createReplicas / buildReplica: a new replica of `sourceId`. */
  | { kind: 'add-replica'; replicaId: string; sourceId: string; writable: boolean }
  /** detach (the replica becomes an independent instance) or delete of a replica (or of a pair's passive side: the pair dissolves). */
  | { kind: 'remove-member'; instanceId: string }
  /** Switchover: the candidate takes writes, everyone else follows it, the former source read-only. */
  | { kind: 'promote'; newSourceId: string }
  /**
   * Failover: as promote, but the former source leaves the set (fenced), and with it the
   * replicas in `fenced` (those of a lost zone, fenced too).
   */
  | { kind: 'eject'; newSourceId: string; fenced?: string[] }
  /** Dead relay: its replicas now replicate from `toId`, a member above it; the relay stays, a leaf. */
  | { kind: 'move-replicas'; fromId: string; toId: string }
  /** Master-master (C1/C2): the source and its replica `peerId` (a leaf) replicate both ways; the source stays active. */
  | { kind: 'make-pair'; peerId: string }
  /** Switchover inside a pair (C3): `activeId` takes writes, the other side turns passive; replicas follow the active side. */
  | { kind: 'switch-active'; activeId: string }
  /** The pair dissolves back into a source (the active side) with replicas: the passive side stops being replicated from. */
  | { kind: 'break-pair' }
  /** The active side died: the passive takes writes and every replica; the dead side leaves the set fenced (as eject). */
  | { kind: 'pair-failover'; activeId: string };

export function applyTransition(t: Topology, tr: Transition, limits: TopologyLimits = DEFAULT_LIMITS): Topology {
  switch (tr.kind) {
    case 'add-replica': {
      if (isMember(t, tr.replicaId)) {
        // Idempotent: a retried registration finds its own earlier effect.
        if (upstreamOf(t, tr.replicaId) === tr.sourceId) return t;
        throw new TopologyError([`${tr.replicaId} is already a member of set ${t.setId}`]);
      }
      return checked({ ...t, members: [...t.members, { id: tr.replicaId, writable: tr.writable }], links: [...t.links, { source: tr.sourceId, replica: tr.replicaId }] }, limits);
    }
    case 'remove-member': {
      if (!isMember(t, tr.instanceId)) return t;
      if (sourceOf(t) === tr.instanceId) throw new TopologyError([`${tr.instanceId} is the source of set ${t.setId}; ${t.coMasters ? 'switch the active side' : 'promote or eject'} first`]);
      // A pair's passive side leaving dissolves the pair: its active side stays, the source.
      const from = isCoMaster(t, tr.instanceId) ? applyTransition(t, { kind: 'break-pair' }, limits) : t;
      // Its own replicas (a cascade) move up to its upstream, keeping their position in the stream.
      const up = upstreamOf(from, tr.instanceId);
      const links = from.links.filter((l) => l.replica !== tr.instanceId).map((l) => (l.source === tr.instanceId ? { ...l, source: up! } : l));
      const next = { ...from, members: from.members.filter((m) => m.id !== tr.instanceId), links };
      return next.members.length < 2 ? next : checked(next, limits);
    }
    case 'move-replicas': {
      const above = new Set<string>();
      for (let at = upstreamOf(t, tr.fromId); at; at = upstreamOf(t, at)) above.add(at);
      if (!isMember(t, tr.fromId) || !above.has(tr.toId)) throw new TopologyError([`${tr.toId} is not a member above ${tr.fromId} in set ${t.setId}`]);
      return checked({ ...t, links: t.links.map((l) => (l.source === tr.fromId ? { ...l, source: tr.toId } : l)) }, limits);
    }
    case 'make-pair': {
      const source = sourceOf(t);
      if (t.coMasters) {
        if (t.coMasters.includes(tr.peerId) && source !== undefined && t.coMasters.includes(source)) return t; // a retry
        throw new TopologyError([`set ${t.setId} already has a master-master pair (${t.coMasters.join(', ')}); a set has at most one`]);
      }
      if (!source || upstreamOf(t, tr.peerId) !== source) throw new TopologyError([`${tr.peerId} is not a replica of the source of set ${t.setId}`]);
      if (downstreamOf(t, tr.peerId).length > 0) throw new TopologyError([`${tr.peerId} has replicas of its own; a pair's passive side starts as a leaf`]);
      const members = t.members.map((m) => (m.id === tr.peerId ? { ...m, writable: false } : m));
      return checked({ ...t, members, links: [...t.links, { source: tr.peerId, replica: source }], coMasters: [source, tr.peerId] }, limits);
    }
    case 'switch-active':
    case 'pair-failover': {
      const pair = pairOf(t);
      const former = sourceOf(t)!;
      if (!pair.includes(tr.activeId)) throw new TopologyError([`${tr.activeId} is not a side of the pair of set ${t.setId}`]);
      if (former === tr.activeId) {
        if (tr.kind === 'switch-active') return t; // a retry
        throw new TopologyError([`${tr.activeId} is already the active side of set ${t.setId}`]);
      }
      // Replicas of the old active side follow the new one (the passive side's own stay).
      const moved = t.links.map((l) => (l.source === former && l.replica !== tr.activeId ? { ...l, source: tr.activeId } : l));
      if (tr.kind === 'switch-active') {
        const members = t.members.map((m) => (m.id === tr.activeId ? { ...m, writable: true } : m.id === former ? { ...m, writable: false } : m));
        return checked({ ...t, members, links: moved }, limits);
      }
      const members = t.members.filter((m) => m.id !== former).map((m) => (m.id === tr.activeId ? { ...m, writable: true } : m));
      const links = moved.filter((l) => l.source !== former && l.replica !== former);
      const next: Topology = { setId: t.setId, members, links };
      return next.members.length < 2 ? next : checked(next, limits);
    }
    case 'break-pair': {
      const pair = pairOf(t);
      const active = sourceOf(t)!;
      const { coMasters: _dropped, ...rest } = t;
      void _dropped;
      // The active side stops replicating from the passive, which stays its read-only replica.
      return checked({ ...rest, links: t.links.filter((l) => !(l.replica === active && pair.includes(l.source))) }, limits);
    }
    case 'promote':
    case 'eject': {
      if (t.coMasters) throw new TopologyError([`set ${t.setId} is a master-master pair: switch its active side or break the pair first`]);
      const former = sourceOf(t);
      if (!former) throw new TopologyError([`set ${t.setId} has no source to replace`]);
      if (!isMember(t, tr.newSourceId) || tr.newSourceId === former) throw new TopologyError([`${tr.newSourceId} is not a replica of set ${t.setId}`]);
      const leaves = new Set(tr.kind === 'eject' ? [former, ...(tr.fenced ?? [])] : []);
      if (leaves.has(tr.newSourceId)) throw new TopologyError([`${tr.newSourceId} is fenced: it cannot become the source of set ${t.setId}`]);
      const stays = t.members.filter((m) => !leaves.has(m.id));
      const members = stays.map((m) => ({ id: m.id, writable: m.id === tr.newSourceId ? true : m.id === former ? false : m.writable }));
      const links = members.filter((m) => m.id !== tr.newSourceId).map((m) => ({ source: tr.newSourceId, replica: m.id }));
      const next = { setId: t.setId, members, links };
      return next.members.length < 2 ? next : checked(next, limits);
    }
  }
}

/**
 * The pair a set's links declare: two members that replicate from each other (the registry
 * stores a pair as its two links, so the declaration cannot disagree with them).
 */
export function pairInLinks(links: Link[]): [string, string] | undefined {
  const l = links.find((x) => links.some((y) => y.source === x.replica && y.replica === x.source));
  return l ? ([l.source, l.replica].sort() as [string, string]) : undefined;
}

/** The two sides of the set's pair; throws when the set has none. */
function pairOf(t: Topology): [string, string] {
  if (!t.coMasters) throw new TopologyError([`set ${t.setId} is not a master-master pair`]);
  return t.coMasters;
}

/** The other side of `id`'s pair, if `id` is a side of one. */
export function peerOf(t: Topology, id: string): string | undefined {
  if (!t.coMasters?.includes(id)) return undefined;
  return t.coMasters.find((m) => m !== id);
}

/** A set left with one member is no set: it dissolves and that member stands alone. */
export const dissolves = (t: Topology): boolean => t.members.length < 2;
