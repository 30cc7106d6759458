import { describe, expect, it } from 'vitest';
import { buildManifest } from '../../src/manifest/build-manifest.js';
import { ManifestInputError } from '../../src/manifest/errors.js';
import { parseExpectedHashes } from '../../src/manifest/expected-hashes.js';

const h = (c: string) => c.repeat(64);

describe('--expected FILE', () => {
  it('accepts blank-, tab- or comma-separated pairs, comments, a header and CRLF; stores hashes lowercase', () => {
    const text = `# reference run\r\nend hash\r\n100 ${h('A')}\r\n200\t${h('b')}\n300 , ${h('c')} # trailing\n\n`;
    const hashes = parseExpectedHashes(text, 'e.txt');
    expect([...hashes].map(([end, { hash, line }]) => [end, hash, line])).toEqual([
      [100, h('a'), 3],
      [200, h('b'), 4],
      [300, h('c'), 5],
    ]);
  });

  const rejected: Array<[string, string, number, RegExp]> = [
    ['a short hash', `100 ${'a'.repeat(63)}\n`, 1, /is not 64 hex digits/],
    ['a non-hex hash', `100 ${h('g')}\n`, 1, /is not 64 hex digits/],
    ['a bad block', `# x\n1.5 ${h('a')}\n`, 2, /end block "1\.5" is not an integer/],
    ['a huge block', `9007199254740993 ${h('a')}\n`, 1, /beyond 2\^53 - 1/],
    ['one column', `100\n`, 1, /expected 2 columns \(end block, hash\), found 1/],
    ['three columns', `100 ${h('a')} x\n`, 1, /found 3/],
    ['a block twice', `100 ${h('a')}\n200 ${h('b')}\n100 ${h('c')}\n`, 3, /block 100 already has an expected hash on line 1; keep one/],
  ];
  for (const [name, text, line, message] of rejected) {
    it(`refuses ${name} with its line`, () => {
      expect(() => parseExpectedHashes(text, 'e.txt')).toThrow(ManifestInputError);
      expect(() => parseExpectedHashes(text, 'e.txt')).toThrow(new RegExp(`^e\\.txt line ${line}: .*${message.source}`));
    });
  }

  it('refuses, when building, a hash for a block no interval ends at', () => {
    const hashes = parseExpectedHashes(`10 ${h('a')}\n# c\n15 ${h('b')}\n`, 'e.txt');
    const build = () =>
      buildManifest({
        run: 'r', createdAt: '2026-01-01T00:00:00.000Z',
        intervals: [{ start: 0, end: 10 }, { start: 10, end: 20 }],
        expected: { hashes, source: 'e.txt' },
      });
    expect(build).toThrow(/^e\.txt line 3: block 15 is not the end of any interval of this run; check that the file belongs to this spacing table$/);
  });

  it('puts each hash on the interval that ends at its block', () => {
    const hashes = parseExpectedHashes(`20 ${h('b')}\n`, 'e.txt');
    const manifest = buildManifest({
      run: 'r', createdAt: '2026-01-01T00:00:00.000Z',
      intervals: [{ start: 0, end: 10 }, { start: 10, end: 20 }],
      expected: { hashes, source: 'e.txt' },
    });
    expect(manifest.intervals).toEqual([
      { start: 0, end: 10, snapshot: null },
      { start: 10, end: 20, snapshot: null, expectedEndHash: h('b') },
    ]);
  });
});
