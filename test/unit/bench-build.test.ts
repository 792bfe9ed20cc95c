// The replica-build benchmark's run order: each run starts one variant later, so over as
// many runs as variants each variant takes every position once.
import { rotate } from '../../bench/replica-build';

test.each<[number, (string | number)[]]>([
  [0, ['pipe', 'file', 1, 2, 3]],
  [1, ['file', 1, 2, 3, 'pipe']],
  [4, [3, 'pipe', 'file', 1, 2]],
  [5, ['pipe', 'file', 1, 2, 3]],
])('run order %i', (k, order) => expect(rotate(['pipe', 'file', 1, 2, 3], k)).toEqual(order));
