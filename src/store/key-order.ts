/**
 * Keys are listed in UTF-8 byte order (what S3 does). JavaScript's `<`
 * compares UTF-16 code units, which differs from byte order only when a
 * surrogate (U+D800-DFFF) meets a code unit in U+E000-FFFF; this comparison
 * fixes that case and is otherwise as fast as `<`.
 */
export function compareKeys(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

/** Moves surrogates above U+E000-FFFF so code units sort like code points (and like UTF-8 bytes). */
function codePointRank(unit: number): number {
  if (unit >= 0xd800 && unit <= 0xdfff) return unit + 0x2000;
  if (unit >= 0xe000) return unit - 0x800;
  return unit;
}

/** Index of the first element of sorted `keys` strictly greater than `key`. */
export function upperBound(keys: readonly string[], key: string): number {
  return firstIndex(keys, (k) => compareKeys(k, key) > 0);
}

/** Index of the first element of sorted `keys` greater than or equal to `key`. */
export function lowerBound(keys: readonly string[], key: string): number {
  return firstIndex(keys, (k) => compareKeys(k, key) >= 0);
}

/** Binary search for the first index where `past` turns true (it must be monotonic over `keys`). */
function firstIndex(keys: readonly string[], past: (key: string) => boolean): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (past(keys[mid]!)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
