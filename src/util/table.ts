/** A fixed-width text table: a header row and rows of cells; numbers align right. */
export function formatTable(header: string[], rows: Array<Array<string | number>>): string {
  const cells = [header, ...rows.map((row) => row.map(String))];
  // Widths by a loop, not Math.max(...column): a manifest's 200,000 rows would overflow the stack as call arguments.
  const widths = header.map(() => 0);
  for (const row of cells) for (let column = 0; column < widths.length; column++) widths[column] = Math.max(widths[column]!, row[column]!.length);
  const numeric = header.map((_, column) => rows.length > 0 && rows.every((row) => typeof row[column] === 'number'));
  return cells
    .map((row) => row.map((cell, column) => (numeric[column] ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!))).join('  ').trimEnd())
    .map((line) => `${line}\n`)
    .join('');
}
