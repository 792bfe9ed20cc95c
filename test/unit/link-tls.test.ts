// A link's TLS as health reports it, and when a plain link is a health problem.
import { summarizeHealth } from '../../lib/health';
import { linkTls, linkTlsProblem } from '../../lib/link-tls';

test.each([
  // set TLS, the link's tls as read, what show says, a problem?
  [true, true, 'tls', false],
  [true, false, 'plain', true],
  [true, null, '-', false],
  [true, undefined, '-', false],
  [false, false, 'plain', false],
  [false, true, 'tls', false],
  [false, null, '-', false],
] as const)('set TLS %s, link tls %s: %s, problem %s', (setTls, tls, shown, problem) => {
  expect(linkTls({ tls })).toBe(shown);
  expect(linkTlsProblem(setTls, { tls }) !== null).toBe(problem);
});

test("health carries each link's TLS; a source (no link) and a member that did not answer carry none", () => {
  const status = (tls: boolean) => ({ ioRunning: true, sqlRunning: true, secondsBehind: 0, gtidSlavePos: '0-1-5', gtidIoPos: '0-1-5', gtidBinlogPos: '0-1-5', lastIoError: '', lastSqlError: '', readOnly: true, tls });
  const health = summarizeHealth(
    [
      { instanceId: 's', name: 's', role: 'source' },
      { instanceId: 'a', name: 'a', role: 'replica' },
      { instanceId: 'b', name: 'b', role: 'replica' },
      { instanceId: 'c', name: 'c', role: 'replica' },
      // A pair's active side: the source, whose link to the passive side is read too.
      { instanceId: 'p', name: 'p', role: 'source', replicates: true },
    ],
    { s: { reachable: true }, a: { reachable: true }, b: { reachable: true }, c: { reachable: false }, p: { reachable: true } },
    { s: { ...status(false), readOnly: false }, a: status(true), b: status(false), c: null, p: status(true) },
    '2026-12-03T08:00:00.000Z',
  );
  expect(health.map((h) => [h.instanceId, h.tls])).toEqual([
    ['s', null],
    ['a', true],
    ['b', false],
    ['c', null],
    ['p', true],
  ]);
});
