// Summaries of repeated measurements. Pure, so the table tests pin them down.

export interface Summary {
  runs: number;
  median: number;
  min: number;
  max: number;
}

/** Nearest-rank percentile of already measured values (p in 0..100). */
export function percentile(values: number[], p: number): number {
  if (!values.length) throw new Error('percentile of no values');
  if (p < 0 || p > 100) throw new Error(`p: must be within 0..100, got ${p}`);
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

export function median(values: number[]): number {
  if (!values.length) throw new Error('median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function summarize(values: number[]): Summary {
  return { runs: values.length, median: median(values), min: Math.min(...values), max: Math.max(...values) };
}

/** "4.21 s (3.90–4.80, n=3)": the median and the spread, as every figure in RESULTS.md. */
export function formatSummary(s: Summary, unit: 's' | 'ms' | 'MiB' | '' = 's', digits = 2): string {
  const f = (v: number) => v.toFixed(digits);
  const u = unit ? ` ${unit}` : '';
  return s.runs === 1 ? `${f(s.median)}${u} (n=1)` : `${f(s.median)}${u} (${f(s.min)}–${f(s.max)}, n=${s.runs})`;
}
