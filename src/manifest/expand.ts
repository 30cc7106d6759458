import type { SpacingRow } from './spacing.js';

/** One replay interval: blocks `start` to `end`, cut from a row whose span was `span`. */
export interface SpanInterval {
  start: number;
  end: number;
  span: number;
}

/**
 * The anchor's buffer: a row is cut only when it is more than 10 % longer
 * than its span, and a last piece shorter than 10 % of a span is merged into
 * the piece before it.
 */
const BUFFER_MULTIPLE = 1.1;

/**
 * Expands a validated spacing table into intervals with exactly the anchor's
 * rule, including its floating-point arithmetic (`start + span * 1.1` as an
 * IEEE double, as Python computes `int + int * float`), so that a table
 * expands to the same intervals as under the anchor's script:
 *
 * - a row is cut into chunks of `span` when `start + 1.1*span < end`;
 * - while cutting, a chunk whose `chunkStart + 1.1*span > end` runs to `end`;
 * - other rows stay whole.
 *
 * Every operand is a safe integer (spacing.ts refuses anything else), so the
 * only rounding is the anchor's own.
 */
export function expandSpacing(rows: readonly SpacingRow[]): SpanInterval[] {
  const intervals: SpanInterval[] = [];
  for (const row of rows) expandRow(row, intervals);
  return intervals;
}

function expandRow({ start, end, span }: SpacingRow, into: SpanInterval[]): void {
  if (!(start + span * BUFFER_MULTIPLE < end)) {
    into.push({ start, end, span });
    return;
  }
  let chunkStart = start;
  while (chunkStart < end) {
    // A chunk never overshoots: when chunkStart + 1.1*span <= end, chunkStart + span < end.
    const chunkEnd = chunkStart + span * BUFFER_MULTIPLE > end ? end : chunkStart + span;
    into.push({ start: chunkStart, end: chunkEnd, span });
    chunkStart = chunkEnd;
  }
}

/** The anchor's output format, `start,end,span` per line, so existing spreadsheets keep working. */
export function formatIntervalsCsv(intervals: readonly SpanInterval[]): string {
  return intervals.map((i) => `${i.start},${i.end},${i.span}\n`).join('');
}
