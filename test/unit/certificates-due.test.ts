// When a certificate is renewed unasked: the configured lead before expiry, at most a third of its life.
import { certificatesDue, renewalLeadMs } from '../../lib/certificates-due';

const DAY = 86_400_000;
const T0 = Date.parse('2026-12-03T00:00:00Z');
const cert = (id: string, issuedDaysAgo: number, lifeDays: number) => ({ instanceId: id, issued: new Date(T0 - issuedDaysAgo * DAY), notAfter: new Date(T0 - issuedDaysAgo * DAY + lifeDays * DAY) });

test.each([
  // life, lead asked (days), lead used (days)
  [825, 30, 30],
  [90, 30, 30],
  [60, 30, 20], // a third of its life
  [1, 30, 1 / 3],
  [825, 0, 0],
])('a %s-day certificate, renewed %s days ahead: %s days ahead', (life, lead, used) => {
  expect(renewalLeadMs(cert('a', 0, life), lead)).toBeCloseTo(used * DAY, 0);
});

test.each([
  // issued days ago, life days, renew-before days, due?
  [0, 825, 30, false],
  [794, 825, 30, false], // 31 days left
  [795, 825, 30, true], // 30 days left
  [900, 825, 30, true], // expired already
  [0, 10, 30, false], // fresh short certificate: not due at once (no renewal loop)
  [6, 10, 30, false],
  [7, 10, 30, true], // two thirds of its life
  [0, 825, 900, false], // a lead longer than any life is capped too
] as const)('issued %s days ago for %s days, lead %s days: due %s', (ago, life, lead, due) => {
  expect(certificatesDue([cert('m', ago, life)], new Date(T0), lead).due).toEqual(due ? ['m'] : []);
});

test('the members due, sorted, and when the next one is due (for the watch to look again then, not before)', () => {
  const r = certificatesDue([cert('c', 800, 825), cert('a', 0, 825), cert('b', 796, 825), cert('d', 700, 825)], new Date(T0), 30);
  expect(r.due).toEqual(['b', 'c']);
  // d: 125 days left, due 30 days before its end, i.e. in 95 days.
  expect(r.nextDueAt!.getTime() - T0).toBe(95 * DAY);
  expect(certificatesDue([], new Date(T0), 30)).toEqual({ due: [], nextDueAt: null });
  expect(certificatesDue([cert('x', 900, 825)], new Date(T0), 30).nextDueAt).toBeNull();
});
