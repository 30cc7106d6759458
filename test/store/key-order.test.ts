import { describe, expect, it } from 'vitest';
import { compareKeys, lowerBound, upperBound } from '../../src/store/key-order.js';

describe('key order', () => {
  it('is UTF-8 byte order, also where UTF-16 code-unit order differs', () => {
    const keys = ['b', 'a/x', 'a', '\u{1F600}', '\uFF21', 'a-b', 'é', ''];
    const byBytes = [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    expect([...keys].sort(compareKeys)).toEqual(byBytes);
    // plain `<` would put the emoji (surrogates D83D..) before U+FF21
    expect(compareKeys('\u{1F600}', '\uFF21')).toBeGreaterThan(0);
  });

  it('finds bounds in a sorted list', () => {
    const keys = ['a', 'b', 'b', 'c'];
    expect(lowerBound(keys, 'b')).toBe(1);
    expect(upperBound(keys, 'b')).toBe(3);
    expect(lowerBound(keys, '0')).toBe(0);
    expect(upperBound(keys, 'z')).toBe(4);
  });
});
