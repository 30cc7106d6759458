import { describe, expect, it } from 'vitest';
import { ManifestInputError } from '../../src/manifest/errors.js';
import { parseSpacing } from '../../src/manifest/spacing.js';

const rowsOf = (text: string) => parseSpacing(text, 't.tsv').map(({ start, end, span }) => [start, end, span]);

function rejection(text: string): ManifestInputError {
  try {
    parseSpacing(text, 't.tsv');
  } catch (error) {
    expect(error).toBeInstanceOf(ManifestInputError);
    return error as ManifestInputError;
  }
  throw new Error('accepted a bad table');
}

describe('spacing table: accepted quietly', () => {
  const plain = [[0, 10, 5], [10, 30, 7]];

  it('tab-separated rows', () => {
    expect(rowsOf('0\t10\t5\n10\t30\t7\n')).toEqual(plain);
    expect(rowsOf('0\t10\t5\n10\t30\t7')).toEqual(plain); // no final newline
  });
  it('CRLF line endings', () => {
    expect(rowsOf('0\t10\t5\r\n10\t30\t7\r\n')).toEqual(plain);
  });
  it('trailing blank lines', () => {
    expect(rowsOf('0\t10\t5\n10\t30\t7\n\n\n  \n\r\n')).toEqual(plain);
  });
  it('a header line start<TAB>end<TAB>span', () => {
    expect(rowsOf('start\tend\tspan\n0\t10\t5\n10\t30\t7\n')).toEqual(plain);
    expect(rowsOf('# era table\nStart\tEnd\tSpan\r\n0\t10\t5\n10\t30\t7\n')).toEqual(plain);
  });
  it('# comments, whole-line and trailing', () => {
    expect(rowsOf('# from the anchor\n0\t10\t5 # genesis era\n   # indented\n10\t30\t7\n')).toEqual(plain);
  });
  it('a UTF-8 byte order mark', () => {
    expect(rowsOf('\uFEFF0\t10\t5\n10\t30\t7\n')).toEqual(plain);
  });
  it('keeps line numbers of the file, comments and header included', () => {
    expect(parseSpacing('start\tend\tspan\n# c\n0\t10\t5\n\n10\t30\t7\n', 't').map((r) => r.line)).toEqual([3, 5]);
  });
  it('a row longer than its span, and a span longer than its row', () => {
    expect(rowsOf('0\t100\t1000\n100\t9007199254\t3\n')).toEqual([[0, 100, 1000], [100, 9007199254, 3]]);
  });
});

describe('spacing table: rejected with the line number and the fix', () => {
  const cases: Array<[string, string, number | undefined, RegExp]> = [
    ['rows out of order', '0\t10\t5\n10\t20\t5\n5\t10\t5\n', 3, /start 5 comes before the previous row's start 10 \(line 2\); sort the rows by start/],
    ['a gap', '0\t10\t5\n# c\n12\t20\t5\n', 3, /leaves a gap.*ends at 10 \(line 1\).*blocks 10-12 are not covered; make each row start where the previous one ends/],
    ['an overlap', '0\t10\t5\n8\t20\t5\n', 2, /start 8 is inside the previous row 0-10 \(line 1\): the rows overlap/],
    ['duplicate starts', '0\t10\t5\n10\t20\t5\n10\t30\t5\n', 3, /start 10 repeats the row on line 2; remove one of the two rows/],
    ['a fraction', '0\t10.5\t5\n', 1, /end "10.5" is not an integer/],
    ['an exponent', '0\t1e3\t5\n', 1, /end "1e3" is not an integer/],
    ['a word', 'zero\t10\t5\n', 1, /start "zero" is not a number/],
    ['a sign on a positive number', '+0\t10\t5\n', 1, /start "\+0" has a sign; write whole numbers in plain digits/],
    ['a negative number', '0\t10\t5\n10\t-20\t5\n', 2, /end "-20" is negative/],
    ['a zero span', '0\t10\t0\n', 1, /span 0 is not positive/],
    ['a negative span', '0\t10\t-3\n', 1, /span "-3" is negative/],
    ['end equal to start', '0\t10\t5\n10\t10\t5\n', 2, /end 10 is not after start 10; a row needs end > start/],
    ['end before start', '20\t10\t5\n', 1, /end 10 is not after start 20/],
    ['a number beyond 2^53', '0\t10\t9007199254740993\n', 1, /span 9007199254740993 is beyond 2\^53 - 1/],
    ['exactly 2^53', '0\t10\t9007199254740992\n', 1, /span 9007199254740992 is beyond 2\^53 - 1/],
    ['a block beyond the 10-digit layout', '0\t10000000000\t5\n', 1, /end 10000000000 is beyond block 9999999999/],
    ['two columns', '0\t10\t5\n10\t20\n', 2, /expected 3 tab-separated columns \(start, end, span\), found 2/],
    ['four columns', '0\t10\t5\t1\n', 1, /found 4/],
    ['spaces instead of tabs', '0 10 5\n', 1, /found 1; separate the columns with tabs/],
    ['an empty column', '0\t\t5\n', 1, /end is empty/],
    ['a header after data', '0\t10\t5\nstart\tend\tspan\n', 2, /header row is only allowed before the first data row/],
    ['an empty file', '', undefined, /t\.tsv: no rows \(the file is empty or holds only comments\)/],
    ['only blank lines and comments', '\n# nothing\n\r\n', undefined, /no rows/],
    ['only a header', 'start\tend\tspan\n', undefined, /no rows/],
  ];
  for (const [name, text, line, message] of cases) {
    it(name, () => {
      const error = rejection(text);
      expect(error.line).toBe(line);
      expect(error.message).toMatch(message);
      if (line !== undefined) expect(error.message).toMatch(new RegExp(`^t\\.tsv line ${line}: `));
      expect(error.message).not.toContain('\n');
    });
  }
});
