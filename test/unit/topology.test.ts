import { applyTransition, depthOf, pairInLinks, roleOf, sourceOf, subtreeOf, TopologyError, validateTopology, type Topology, type Transition } from '../../lib/topology';

// Builders: a set from a compact picture. star('s', ['a', 'b']) is s <- a, s <- b.
const member = (id: string, writable = false) => ({ id, writable });
function star(source: string, replicas: string[], extra: Partial<Topology> = {}): Topology {
  return { setId: 'set', members: [member(source, true), ...replicas.map((r) => member(r))], links: replicas.map((r) => ({ source, replica: r })), ...extra };
}
/** s <- a <- b: a chain (a cascade) of the given members. */
function chain(...ids: string[]): Topology {
  return { setId: 'set', members: ids.map((id, i) => member(id, i === 0)), links: ids.slice(1).map((id, i) => ({ source: ids[i]!, replica: id })) };
}
const coMasters = (): Topology => ({
  setId: 'set',
  members: [member('a', true), member('b'), member('r')],
  links: [{ source: 'a', replica: 'b' }, { source: 'b', replica: 'a' }, { source: 'a', replica: 'r' }],
  coMasters: ['a', 'b'],
});

describe('roles come from the links', () => {
  it.each([
    ['source of a star', star('s', ['a']), 's', 'source'],
    ['replica of a star', star('s', ['a']), 'a', 'replica'],
    ['middle of a chain', chain('s', 'a', 'b'), 'a', 'relay'],
    ['end of a chain', chain('s', 'a', 'b'), 'b', 'replica'],
    ['side of a pair', coMasters(), 'b', 'co-master'],
  ] as const)('%s', (_, t, id, role) => expect(roleOf(t, id)).toBe(role));

  it('the source of a pair is its writable side; depth and subtree follow the links', () => {
    expect(sourceOf(coMasters())).toBe('a');
    expect(depthOf(chain('s', 'a', 'b'), 'b')).toBe(2);
    expect(subtreeOf(chain('s', 'a', 'b', 'c'), 'a')).toEqual(['b', 'c']);
  });
});

describe('validateTopology', () => {
  it.each([
    ['a star', star('s', ['a', 'b']), 1, []],
    ['a chain within the depth limit', chain('s', 'a', 'b'), 2, []],
    ['a declared co-master pair with a replica', coMasters(), 1, []],
  ] as const)('accepts %s', (_, t, maxDepth, problems) => expect(validateTopology(t, { maxDepth })).toEqual(problems));

  it.each([
    ['a chain deeper than the limit', chain('s', 'a', 'b'), 1, /b is 2 links from the source; at most 1/],
    ['two sources', { ...star('s', ['a']), members: [member('s', true), member('a'), member('x', true)] }, 1, /exactly one source \(found s, x\)/],
    ['a read-only source', { ...star('s', ['a']), members: [member('s'), member('a')] }, 1, /source s does not take writes/],
    ['an undeclared cycle', { setId: 'set', members: [member('s', true), member('a'), member('b')], links: [{ source: 's', replica: 'a' }, { source: 'a', replica: 'b' }, { source: 'b', replica: 'a' }] }, 3, /replicates from more than one member/],
    ['a link to a stranger', { ...star('s', ['a']), links: [{ source: 'x', replica: 'a' }] }, 1, /outside the set/],
    ['a pair with two writable sides', { ...coMasters(), members: [member('a', true), member('b', true), member('r')] }, 1, /exactly one co-master takes writes \(2 do\)/],
    ['a pair that does not replicate both ways', { ...coMasters(), links: [{ source: 'a', replica: 'b' }, { source: 'a', replica: 'r' }] }, 1, /must replicate from each other/],
    ['a lone member', { setId: 'set', members: [member('s', true)], links: [] }, 1, /at least two members/],
  ] as const)('refuses %s', (_, t, maxDepth, problem) => expect(validateTopology(t as Topology, { maxDepth }).join('; ')).toMatch(problem));
});

describe('transitions', () => {
  const cases: [string, Topology, Transition, Topology][] = [
    ['add a replica', star('s', ['a']), { kind: 'add-replica', replicaId: 'b', sourceId: 's', writable: false }, star('s', ['a', 'b'])],
    ['add it again (a retry)', star('s', ['a']), { kind: 'add-replica', replicaId: 'a', sourceId: 's', writable: false }, star('s', ['a'])],
    ['remove a replica', star('s', ['a', 'b']), { kind: 'remove-member', instanceId: 'a' }, star('s', ['b'])],
    ['remove the last replica (the set is then alone)', star('s', ['a']), { kind: 'remove-member', instanceId: 'a' }, { setId: 'set', members: [member('s', true)], links: [] }],
    ['remove someone who left already', star('s', ['a']), { kind: 'remove-member', instanceId: 'z' }, star('s', ['a'])],
    [
      'promote: the former source follows the new one, read-only',
      star('s', ['a', 'b']),
      { kind: 'promote', newSourceId: 'a' },
      { setId: 'set', members: [member('s'), member('a', true), member('b')], links: [{ source: 'a', replica: 's' }, { source: 'a', replica: 'b' }] },
    ],
    ['eject: the former source leaves', star('s', ['a', 'b']), { kind: 'eject', newSourceId: 'b' }, { setId: 'set', members: [member('a'), member('b', true)], links: [{ source: 'b', replica: 'a' }] }],
    [
      'eject with a lost zone: its fenced replicas leave with the former source',
      star('s', ['a', 'b', 'c']),
      { kind: 'eject', newSourceId: 'b', fenced: ['a'] },
      { setId: 'set', members: [member('b', true), member('c')], links: [{ source: 'b', replica: 'c' }] },
    ],
    ['eject fencing every other replica: the new source stays alone', star('s', ['a', 'b']), { kind: 'eject', newSourceId: 'b', fenced: ['a'] }, { setId: 'set', members: [member('b', true)], links: [] }],
  ];
  it.each(cases)('%s', (_, before, tr, after) => expect(applyTransition(before, tr)).toEqual(after));

  it('a dead relay\'s replicas move to a member above it; the relay stays, a leaf', () => {
    expect(applyTransition(chain('s', 'a', 'b', 'c'), { kind: 'move-replicas', fromId: 'b', toId: 's' }, { maxDepth: 3 }).links).toEqual([
      { source: 's', replica: 'a' },
      { source: 'a', replica: 'b' },
      { source: 's', replica: 'c' },
    ]);
    expect(applyTransition(chain('s', 'a', 'b', 'c'), { kind: 'move-replicas', fromId: 'b', toId: 'a' }, { maxDepth: 3 }).members.map((m) => m.id)).toEqual(['s', 'a', 'b', 'c']);
  });

  it('removing a relay moves its replicas up to its own source', () => {
    expect(applyTransition(chain('s', 'a', 'b'), { kind: 'remove-member', instanceId: 'a' }, { maxDepth: 2 }).links).toEqual([{ source: 's', replica: 'b' }]);
  });

  it.each([
    ['a replica of a replica beyond the depth limit', star('s', ['a']), { kind: 'add-replica', replicaId: 'b', sourceId: 'a', writable: false }, /b is 2 links from the source/],
    ['a member that is already elsewhere', chain('s', 'a', 'b'), { kind: 'add-replica', replicaId: 'b', sourceId: 's', writable: false }, /already a member/],
    ['removing the source', star('s', ['a']), { kind: 'remove-member', instanceId: 's' }, /is the source of set set; promote or eject first/],
    ['promoting the source', star('s', ['a']), { kind: 'promote', newSourceId: 's' }, /not a replica of set set/],
    ['promoting a stranger', star('s', ['a']), { kind: 'eject', newSourceId: 'z' }, /not a replica of set set/],
    ['promoting a replica it fences', star('s', ['a', 'b']), { kind: 'eject', newSourceId: 'a', fenced: ['a'] }, /a is fenced/],
    ['moving replicas to a member not above the relay', chain('s', 'a'), { kind: 'move-replicas', fromId: 's', toId: 'a' }, /a is not a member above s/],
  ] as const)('refuses %s, naming why', (_, before, tr, why) => {
    expect(() => applyTransition(before, tr as Transition, { maxDepth: 1 })).toThrow(TopologyError);
    expect(() => applyTransition(before, tr as Transition, { maxDepth: 1 })).toThrow(why);
  });
});

describe('master-master pairs', () => {
  const limits = { maxDepth: 3 };
  /** a (active) <-> b, with replicas of a and one of b. */
  const pair = (active = 'a', extra: { source: string; replica: string }[] = [{ source: 'a', replica: 'r' }]): Topology => ({
    setId: 'set',
    members: [member('a', active === 'a'), member('b', active === 'b'), ...extra.map((l) => member(l.replica))],
    links: [{ source: 'a', replica: 'b' }, { source: 'b', replica: 'a' }, ...extra],
    coMasters: ['a', 'b'],
  });

  const cases: [string, Topology, Transition, Topology][] = [
    ['make a pair from a source and its new replica (it stays read-only)', star('a', ['b', 'r']), { kind: 'make-pair', peerId: 'b' }, { ...pair(), members: [member('a', true), member('b'), member('r')], links: [{ source: 'a', replica: 'b' }, { source: 'a', replica: 'r' }, { source: 'b', replica: 'a' }] }],
    ['make it again (a retry)', pair(), { kind: 'make-pair', peerId: 'b' }, pair()],
    ['switch the active side: replicas follow it', pair(), { kind: 'switch-active', activeId: 'b' }, { ...pair('b', [{ source: 'b', replica: 'r' }]) }],
    ['switch to the side already active (a retry)', pair('b'), { kind: 'switch-active', activeId: 'b' }, pair('b')],
    ['break the pair: the passive side stays a replica of the active', pair(), { kind: 'break-pair' }, { setId: 'set', members: [member('a', true), member('b'), member('r')], links: [{ source: 'a', replica: 'b' }, { source: 'a', replica: 'r' }] }],
    ['break a switched pair', pair('b', [{ source: 'b', replica: 'r' }]), { kind: 'break-pair' }, { setId: 'set', members: [member('a'), member('b', true), member('r')], links: [{ source: 'b', replica: 'a' }, { source: 'b', replica: 'r' }] }],
    ['fail over: the dead active leaves, the passive takes writes and its replicas', pair(), { kind: 'pair-failover', activeId: 'b' }, { setId: 'set', members: [member('b', true), member('r')], links: [{ source: 'b', replica: 'r' }] }],
    ['fail over a bare pair: the set is left alone', pair('a', []), { kind: 'pair-failover', activeId: 'b' }, { setId: 'set', members: [member('b', true)], links: [] }],
    ['delete the passive side: the pair dissolves into its active side, its replicas stay', pair(), { kind: 'remove-member', instanceId: 'b' }, { setId: 'set', members: [member('a', true), member('r')], links: [{ source: 'a', replica: 'r' }] }],
    ['delete the passive side of a switched pair', pair('b', [{ source: 'b', replica: 'r' }]), { kind: 'remove-member', instanceId: 'a' }, { setId: 'set', members: [member('b', true), member('r')], links: [{ source: 'b', replica: 'r' }] }],
    ['delete the passive side of a bare pair: the active side is left alone', pair('a', []), { kind: 'remove-member', instanceId: 'b' }, { setId: 'set', members: [member('a', true)], links: [] }],
  ];
  it.each(cases)('%s', (_, before, tr, after) => {
    const next = applyTransition(before, tr, limits);
    expect({ ...next, links: [...next.links].sort((x, y) => x.replica.localeCompare(y.replica)) }).toEqual({ ...after, links: [...after.links].sort((x, y) => x.replica.localeCompare(y.replica)) });
  });

  it('a pair keeps exactly one writable side through every switch, and its roles', () => {
    let t = applyTransition(star('a', ['b']), { kind: 'make-pair', peerId: 'b' }, limits);
    for (const side of ['b', 'a', 'b']) {
      t = applyTransition(t, { kind: 'switch-active', activeId: side }, limits);
      expect(sourceOf(t)).toBe(side);
      expect(t.members.filter((m) => m.writable).map((m) => m.id)).toEqual([side]);
      expect([roleOf(t, 'a'), roleOf(t, 'b')]).toEqual(['co-master', 'co-master']);
      expect(validateTopology(t, limits)).toEqual([]);
    }
  });

  it.each([
    ['a pair of a replica of a replica', chain('s', 'a', 'b'), { kind: 'make-pair', peerId: 'b' }, /b is not a replica of the source/],
    ['a pair with a stranger', star('a', ['b']), { kind: 'make-pair', peerId: 'z' }, /z is not a replica of the source/],
    ['a second pair in one set', pair(), { kind: 'make-pair', peerId: 'r' }, /already has a master-master pair \(a, b\); a set has at most one/],
    ['a pair whose passive side has replicas', chain('a', 'b', 'c'), { kind: 'make-pair', peerId: 'b' }, /b has replicas of its own/],
    ['switching to a replica of the pair', pair(), { kind: 'switch-active', activeId: 'r' }, /r is not a side of the pair/],
    ['switching a set without a pair', star('a', ['b']), { kind: 'switch-active', activeId: 'b' }, /is not a master-master pair/],
    ['breaking a set without a pair', star('a', ['b']), { kind: 'break-pair' }, /is not a master-master pair/],
    ['failing over to the side already active', pair(), { kind: 'pair-failover', activeId: 'a' }, /a is already the active side/],
    ['promoting inside a pair', pair(), { kind: 'promote', newSourceId: 'r' }, /is a master-master pair: switch its active side or break the pair first/],
    ['ejecting inside a pair', pair(), { kind: 'eject', newSourceId: 'b' }, /is a master-master pair/],
    ['removing the active side', pair(), { kind: 'remove-member', instanceId: 'a' }, /is the source of set set; switch the active side first/],
  ] as const)('refuses %s, naming why', (_, before, tr, why) => {
    expect(() => applyTransition(before, tr as Transition, limits)).toThrow(TopologyError);
    expect(() => applyTransition(before, tr as Transition, limits)).toThrow(why);
  });

  it('depth: a replica of the passive side counts its links through the active side', () => {
    expect(depthOf(pair('a', [{ source: 'b', replica: 'r' }]), 'r')).toBe(2);
    expect(() => applyTransition(pair('a', [{ source: 'b', replica: 'r' }]), { kind: 'add-replica', replicaId: 'x', sourceId: 'r', writable: false }, { maxDepth: 2 })).toThrow(/x is 3 links from the source; at most 2/);
  });
});

describe('pairInLinks (how the registry reads a pair back)', () => {
  it.each([
    ['two members replicating from each other', [{ source: 'b', replica: 'a' }, { source: 'a', replica: 'b' }, { source: 'a', replica: 'r' }], ['a', 'b']],
    ['a star', [{ source: 's', replica: 'a' }, { source: 's', replica: 'b' }], undefined],
    ['a chain', [{ source: 's', replica: 'a' }, { source: 'a', replica: 'b' }], undefined],
  ] as const)('%s', (_, links, pair) => expect(pairInLinks([...links])).toEqual(pair));
});
