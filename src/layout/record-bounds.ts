/**
 * Bounds on what a small record (node, observer, lease, result, failure,
 * conflict) may hold. These records are a few hundred bytes by
 * construction: a node record lists its current items (its concurrency),
 * a failure at most 200 log lines. One crafted or runaway object with
 * 130,000 entries must not take out every status view (issue 19: stack
 * overflows, multi-megabyte pages, an observer that stops answering), so
 * such a record is refused at decode time, as corrupt, naming the field:
 * it shows as one problem line and is skipped like any other bad object.
 *
 * Manifests and results digests are not small records (100,000+ intervals
 * is normal) and are not checked here.
 */
import { CorruptObjectError } from './schema.js';

/** Entries any array in a small record may have. Far above what the product writes (node items: its concurrency; log tail: 200). */
export const MAX_RECORD_ARRAY = 1_000;
/** Nesting depth a small record may have (the product writes at most 3). */
export const MAX_RECORD_DEPTH = 16;

/**
 * @throws CorruptObjectError naming the first array (or object) with more
 * than MAX_RECORD_ARRAY entries, by its path (`items`, `counts.x[2]`), or the first value nested deeper
 * than MAX_RECORD_DEPTH. Iterative, so a deep value cannot overflow the
 * stack here either.
 */
export function checkRecordBounds(key: string, record: unknown): void {
  const stack: Array<{ value: unknown; path: string; depth: number }> = [{ value: record, path: '', depth: 0 }];
  while (stack.length > 0) {
    const { value, path, depth } = stack.pop()!;
    if (typeof value !== 'object' || value === null) continue;
    if (depth > MAX_RECORD_DEPTH) throw new CorruptObjectError(key, `field "${path}" is nested deeper than ${MAX_RECORD_DEPTH} levels`);
    if (Array.isArray(value)) {
      if (value.length > MAX_RECORD_ARRAY) {
        throw new CorruptObjectError(key, `field "${path}" holds ${value.length} entries (at most ${MAX_RECORD_ARRAY} in this kind of record)`);
      }
      for (let i = 0; i < value.length; i++) stack.push({ value: value[i], path: `${path}[${i}]`, depth: depth + 1 });
      continue;
    }
    const fields = Object.entries(value);
    if (fields.length > MAX_RECORD_ARRAY) {
      throw new CorruptObjectError(key, `field "${path || '(the record)'}" holds ${fields.length} fields (at most ${MAX_RECORD_ARRAY} in this kind of record)`);
    }
    for (const [name, child] of fields) stack.push({ value: child, path: childPath(path, name), depth: depth + 1 });
  }
}

/** `a.b`, or `a["odd name"]` for a name that is not a plain identifier (the problem line stays one readable line). */
function childPath(path: string, name: string): string {
  if (!/^[A-Za-z0-9_$-]{1,64}$/.test(name)) return `${path}[${JSON.stringify(name.slice(0, 64))}]`;
  return path ? `${path}.${name}` : name;
}

/** Bytes a node or observer record may have (a full 1,000-item node record is about 200 KB). */
export const MAX_RECORD_BYTES = 1024 * 1024;

/** @throws CorruptObjectError when the body is larger than `maxBytes`, before it is parsed. */
export function checkRecordSize(key: string, body: Uint8Array | string, maxBytes = MAX_RECORD_BYTES): void {
  const bytes = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
  if (bytes > maxBytes) throw new CorruptObjectError(key, `${bytes} bytes (at most ${maxBytes} in this kind of record)`);
}
