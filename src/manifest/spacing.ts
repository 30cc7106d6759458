import { MAX_BLOCK } from '../layout/keys.js';
import { ManifestInputError } from './errors.js';
import { parseNonNegativeInteger, splitLines, stripComment } from './numbers.js';

/**
 * The block-spacing table (`optimized_block_spacing.tsv`): tab-separated
 * `start end span` rows, `span` being the blocks a host replays in about
 * three hours in that era of the chain.
 *
 * Unlike the anchor's script (whose contiguity check never ran), every rule
 * here is checked and the first violation is reported with its line number
 * and the fix. Accepted quietly: CRLF line endings, a UTF-8 BOM, blank lines,
 * `#` comments (whole-line or trailing), and one header row
 * `start<TAB>end<TAB>span` before the first data row.
 */
export interface SpacingRow {
  start: number;
  end: number;
  span: number;
  /** 1-based line in the file, for messages. */
  line: number;
}

const COLUMNS = ['start', 'end', 'span'] as const;

export function parseSpacing(text: string, source: string): SpacingRow[] {
  const rows: SpacingRow[] = [];
  const fail = (problem: string, line?: number): never => {
    throw new ManifestInputError(source, problem, line);
  };
  splitLines(text).forEach((raw, index) => {
    const line = index + 1;
    const content = stripComment(raw);
    if (content === '') return;
    const fields = content.split('\t').map((field) => field.trim());
    if (isHeader(fields)) {
      if (rows.length > 0) fail('a header row is only allowed before the first data row; remove this one', line);
      return;
    }
    if (fields.length !== COLUMNS.length) {
      fail(`expected 3 tab-separated columns (start, end, span), found ${fields.length}; separate the columns with tabs`, line);
    }
    const [start, end, span] = COLUMNS.map((what, column) => {
      const parsed = parseNonNegativeInteger(fields[column]!, what);
      return parsed.ok ? parsed.value : fail(parsed.problem, line);
    }) as [number, number, number];
    rows.push(checkRow({ start, end, span, line }, rows.at(-1), fail));
  });
  if (rows.length === 0) fail('no rows (the file is empty or holds only comments); give tab-separated start, end, span rows');
  return rows;
}

function isHeader(fields: string[]): boolean {
  return fields.length === COLUMNS.length && fields.every((field, i) => field.toLowerCase() === COLUMNS[i]);
}

/** One row on its own, then against the previous row: sorted, no duplicate, no overlap, no gap. */
function checkRow(row: SpacingRow, previous: SpacingRow | undefined, fail: (problem: string, line?: number) => never): SpacingRow {
  const { start, end, span, line } = row;
  if (span === 0) fail('span 0 is not positive; every row needs a span of at least 1 block', line);
  if (end <= start) fail(`end ${end} is not after start ${start}; a row needs end > start`, line);
  if (end > MAX_BLOCK) fail(`end ${end} is beyond block ${MAX_BLOCK}, the largest the bucket layout's 10-digit keys can name`, line);
  if (!previous) return row;
  if (start === previous.start) fail(`start ${start} repeats the row on line ${previous.line}; remove one of the two rows`, line);
  if (start < previous.start) {
    fail(`start ${start} comes before the previous row's start ${previous.start} (line ${previous.line}); sort the rows by start`, line);
  }
  if (start < previous.end) {
    fail(
      `start ${start} is inside the previous row ${previous.start}-${previous.end} (line ${previous.line}): the rows overlap; ` +
        'make each row start where the previous one ends',
      line,
    );
  }
  if (start > previous.end) {
    fail(
      `start ${start} leaves a gap after the previous row, which ends at ${previous.end} (line ${previous.line}): ` +
        `blocks ${previous.end}-${start} are not covered; make each row start where the previous one ends`,
      line,
    );
  }
  return row;
}
