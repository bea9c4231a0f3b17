import Table from 'cli-table3';

export type Cell = string | number;
export type Align = 'left' | 'right';

// Borderless, colourless, two spaces between columns: readable, and easy to grep or cut.
const PLAIN_CHARS = {
  top: '',
  'top-mid': '',
  'top-left': '',
  'top-right': '',
  bottom: '',
  'bottom-mid': '',
  'bottom-left': '',
  'bottom-right': '',
  left: '',
  'left-mid': '',
  mid: '',
  'mid-mid': '',
  right: '',
  'right-mid': '',
  middle: '  ',
};

/** A table with an upper-case header row; `align` per column (default left). */
export function renderTable(head: string[], rows: Cell[][], align: Align[] = []): string {
  const table = new Table({
    head: head.map((title) => title.toUpperCase()),
    chars: PLAIN_CHARS,
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0 },
    colAligns: head.map((_, index) => align[index] ?? 'left'),
  });
  for (const row of rows) table.push(row.map(String));
  // cli-table3 pads the last column too; trailing blanks only get in the way of diffs and greps.
  return table
    .toString()
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n');
}

/** Two columns of label and value, for single-object views. */
export function renderFields(fields: [string, Cell][]): string {
  const width = Math.max(...fields.map(([label]) => label.length));
  return fields.map(([label, value]) => `${label.padEnd(width)}  ${value}`.trimEnd()).join('\n');
}
