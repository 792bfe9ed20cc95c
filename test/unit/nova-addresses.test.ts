// Mock Nova's loopback addresses: each Nova walks every 127.0.x.y once, from a block of its own.
import { AddressAllocator, loopbackCandidates } from '../../nova/addresses';

const first = (n: number, firstBlock?: number) => [...take(loopbackCandidates(firstBlock), n)];
function* take<T>(it: Iterable<T>, n: number): Generator<T> {
  for (const x of it) {
    if (n-- <= 0) return;
    yield x;
  }
}

test.each([
  { firstBlock: undefined, starts: ['127.0.1.1', '127.0.1.2'] },
  { firstBlock: 7, starts: ['127.0.7.1', '127.0.7.2'] },
  { firstBlock: 255, starts: ['127.0.255.1', '127.0.255.2'] },
])('from block $firstBlock: starts at $starts.0', ({ firstBlock, starts }) => {
  expect(first(2, firstBlock)).toEqual(starts);
});

test('every address once, wrapping round after 127.0.255.254; never .0 or .255 hosts, never 127.0.0.*', () => {
  const all = [...loopbackCandidates(200)];
  expect(all).toHaveLength(255 * 254);
  expect(new Set(all).size).toBe(all.length);
  expect(all[(255 - 200 + 1) * 254]).toBe('127.0.1.1');
  expect(all.some((a) => /\.(0|255)$/.test(a) || a.startsWith('127.0.0.'))).toBe(false);
});

test('two allocators on one machine start in blocks of their own (almost always): not both at the same lowest address', async () => {
  const starts = new Set<string>();
  for (let i = 0; i < 20; i++) starts.add(await new AddressAllocator(() => [], async () => true).allocate(() => undefined));
  expect(starts.size).toBeGreaterThan(10);
});
