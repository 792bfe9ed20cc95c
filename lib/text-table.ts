// Tables for the Temporal Web UI's details, as fixed-width text in a code block. The UI
// renders markdown in a frame whose stylesheet zeroes every element's padding and border, so
// a markdown table comes out as run-together words ("shop-db-replica-1restoring"); a code
// block keeps its columns (monospace, whitespace kept) and reads the same in the CLI's
// `temporal workflow describe`.

/** Cells longer than this are cut: a long error goes below the table, not in it. */
const MAX_CELL = 40;

const cut = (s: string) => (s.length > MAX_CELL ? `${s.slice(0, MAX_CELL - 1)}…` : s);

export function textTable(header: string[], rows: string[][]): string {
  const cells = [header, ...rows].map((r) => header.map((_, i) => cut(r[i] ?? '')));
  const widths = header.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  const rule = widths.map((w) => '─'.repeat(w)).join('  ');
  // Blank lines around the fence: markdown ends the paragraph before it.
  return ['', '```', line(cells[0]!), rule, ...cells.slice(1).map(line), '```', ''].join('\n');
}
