import { batched } from '../../lib/batch';
import { phasedDelayMs } from '../../lib/monitor-poll';

describe('batched', () => {
  test('keys asked within the window are one load; each caller gets its own keys', async () => {
    const loads: string[][] = [];
    const get = batched(async (keys: string[]) => {
      loads.push(keys);
      return new Map(keys.map((k) => [k, k.toUpperCase()]));
    }, { windowMs: 10, maxKeys: 100 });
    const [a, b] = await Promise.all([get(['a']), get(['b', 'a'])]);
    expect(loads).toEqual([['a', 'b']]);
    expect([...a]).toEqual([['a', 'A']]);
    expect([...b]).toEqual([['b', 'B'], ['a', 'A']]);
  });

  test('a full batch is loaded at once, the rest in the next', async () => {
    const loads: string[][] = [];
    const get = batched(async (keys: string[]) => (loads.push(keys), new Map(keys.map((k) => [k, 1]))), { windowMs: 1000, maxKeys: 2 });
    const started = Date.now();
    await Promise.all([get(['a']), get(['b'])]);
    expect(Date.now() - started).toBeLessThan(500);
    expect(loads).toEqual([['a', 'b']]);
  });

  test("a big batch's callers are answered a slice at a time, other work between slices", async () => {
    const order: string[] = [];
    const get = batched(async (keys: number[]) => {
      // Other work (an I/O callback) waiting as the batch is answered.
      setImmediate(() => order.push('other'));
      return new Map(keys.map((k) => [k, k]));
    }, { windowMs: 5, maxKeys: 1000 });
    await Promise.all(Array.from({ length: 120 }, (_, i) => get([i]).then(() => order.push(`caller ${i}`))));
    expect(order.indexOf('other')).toBe(50);
  });

  test('a key the load does not know is absent; a failed load fails every caller of its batch', async () => {
    const get = batched(async (keys: string[]) => {
      if (keys.includes('bad')) throw new Error('registry down');
      return new Map<string, number>();
    }, { windowMs: 5, maxKeys: 10 });
    expect((await get(['x'])).has('x')).toBe(false);
    await expect(Promise.all([get(['bad']), get(['y'])])).rejects.toThrow('registry down');
  });
});

describe('phasedDelayMs', () => {
  const phaseOf = (key: string) => (1000 + phasedDelayMs(1000, 0, 0, 1000, key)) % 1000;
  test.each([
    ['moves the next poll by at most half an interval', 1000, 12_345, 1000],
    ['a sub-second interval', 200, 7, 200],
  ])('%s', (_what, delay, now, poll) => {
    for (const key of ['a', 'b', 'set-1', 'set-2']) {
      const d = phasedDelayMs(delay, now, now, poll, key);
      expect(Math.abs(d - delay)).toBeLessThanOrEqual(poll / 2);
      expect(d).toBeGreaterThanOrEqual(0);
    }
  });

  test.each([
    ['took 120 ms', 120, 880],
    ['took 700 ms (a loaded worker): still the next moment, not a beat skipped', 700, 300],
    ['took 1,300 ms: the moment after, not back to back', 1300, 700],
  ])('once in phase, a set polls every interval whatever its poll took: %s', (_what, took, sleep) => {
    const started = 5000 + phaseOf('s');
    expect(phasedDelayMs(1000, started, started + took, 1000, 's')).toBe(sleep);
  });

  test('different sets get different phases (spread over the interval)', () => {
    const phases = new Set(Array.from({ length: 200 }, (_, i) => Math.floor(phaseOf(`set-${i}`) / 100)));
    expect(phases.size).toBe(10);
  });
});
