import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { expandSpacing, formatIntervalsCsv } from '../../src/manifest/expand.js';
import { parseSpacing } from '../../src/manifest/spacing.js';
import { realSpacing } from './support/real-data.js';

const expand = (text: string) => expandSpacing(parseSpacing(text, 't.tsv'));

describe('expansion: the anchor rule', () => {
  it('matches the anchor script on boundary cases (expected output produced by the anchor\'s Python)', () => {
    // 0-11 span 10: 0 + 1.1*10 < 11 is false -> whole.
    // 11-23: split; at 21, 21 + 11 > 23 -> the last chunk runs to 23.
    // 23-178 span 50: at 123, 123 + 55 > 178 is false (equal) -> a 50-block chunk, then a 5-block remainder.
    // 178-210: at 208, 208 + 11 > 210 -> runs to 210 (2 blocks).
    // 235-236 span 100: shorter than its span -> whole.
    const table = '0\t11\t10\n11\t23\t10\n23\t178\t50\n178\t210\t10\n210\t235\t10\n235\t236\t100\n';
    expect(formatIntervalsCsv(expand(table))).toBe(
      [
        '0,11,10', '11,21,10', '21,23,10', '23,73,50', '73,123,50', '123,173,50', '173,178,50',
        '178,188,10', '188,198,10', '198,208,10', '208,210,10', '210,220,10', '220,230,10', '230,235,10', '235,236,100',
      ].map((line) => `${line}\n`).join(''),
    );
  });

  it('keeps a row whole exactly at the 1.1 * span threshold and cuts it one block past it', () => {
    expect(expand('0\t110\t100\n')).toEqual([{ start: 0, end: 110, span: 100 }]);
    expect(expand('0\t111\t100\n')).toEqual([{ start: 0, end: 100, span: 100 }, { start: 100, end: 111, span: 100 }]);
  });

  it('works at the top of the block range without rounding', () => {
    const start = 9_999_000_000;
    const intervals = expand(`${start}\t9999999999\t300\n`);
    expect(intervals.at(-1)!.end).toBe(9_999_999_999);
    expect(intervals.slice(0, -1).every((i) => i.end - i.start === 300)).toBe(true);
    expect(intervals).toHaveLength(3334); // 3333 full chunks and a 99-block remainder, as the anchor's script gives
  });
});

describe('expansion: the real ENF table', () => {
  const intervals = expand(realSpacing());

  it('yields 860 intervals from 0,41758,41758 to 343975667,344317349,341682', () => {
    expect(parseSpacing(realSpacing(), 'real')).toHaveLength(404);
    expect(intervals).toHaveLength(860);
    expect(intervals[0]).toEqual({ start: 0, end: 41758, span: 41758 });
    expect(intervals.at(-1)).toEqual({ start: 343975667, end: 344317349, span: 341682 });
  });

  it('is contiguous, and no interval is longer than 1.1 times its span', () => {
    for (let i = 1; i < intervals.length; i++) expect(intervals[i]!.start).toBe(intervals[i - 1]!.end);
    for (const interval of intervals) expect(interval.end - interval.start).toBeLessThanOrEqual(interval.span * 1.1);
  });

  it('prints exactly the anchor script\'s CSV (sha256 of the output of its manifest.py run on this table)', () => {
    const csv = formatIntervalsCsv(intervals);
    expect(csv.split('\n')[0]).toBe('0,41758,41758');
    expect(createHash('sha256').update(csv).digest('hex')).toBe('49a8b582dfc4f35b0b6d97369bb99230608de1cadad6de485c93acadfb2ec067');
  });
});
