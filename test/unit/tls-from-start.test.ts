// What a request for TLS replicas does to the set, as it stands (lib/tls-from-start.ts).
import { tlsFromStart } from '../../lib/tls-from-start';

test.each([
  ['no set yet (a standalone source)', undefined, 'start'],
  ['a set with no link (its replicas all left)', { tls: false, links: 0 }, 'start'],
  ['a TLS set', { tls: true, links: 2 }, 'inherit'],
  ['a TLS set with no link', { tls: true, links: 0 }, 'inherit'],
  ['a plain set that replicates', { tls: false, links: 1 }, 'refused'],
  ['a plain cascade', { tls: false, links: 3 }, 'refused'],
] as const)('%s: %s', (_what, set, kind) => {
  expect(tlsFromStart(set).kind).toBe(kind);
});

test('the refusal says how to turn TLS on for the set', () => {
  const r = tlsFromStart({ tls: false, links: 2 });
  expect(r.kind === 'refused' && r.message).toMatch(/already replicates in plain text \(2 link\(s\)\).*PATCH \/instances\/\{id\}\/replication \{"replication": \{"tls": true\}\}/);
});
