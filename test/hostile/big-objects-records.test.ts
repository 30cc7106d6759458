/**
 * Issue 19, part 1: the small-record bounds at decode time
 * (src/layout/record-bounds.ts), the shapes the status and observer tests
 * (big-objects-status.test.ts) do not stage: deep nesting (JSON.parse takes
 * it, JSON.stringify of the status would overflow the stack), an object
 * with too many fields, and a record too large in bytes. Each is a
 * CorruptObjectError naming the key and the field, the way every bad
 * object is reported and skipped.
 */
import { describe, expect, it } from 'vitest';
import { checkRecordBounds, MAX_RECORD_ARRAY, MAX_RECORD_BYTES, MAX_RECORD_DEPTH } from '../../src/layout/record-bounds.js';
import { CorruptObjectError } from '../../src/layout/schema.js';
import { decodeNodeRecord } from '../../src/records/node-record.js';
import { decodeObserverRecord } from '../../src/records/observer-record.js';

const KEY = 'runs/r1/nodes/n1.json';
const node = (extra: Record<string, unknown>): string =>
  JSON.stringify({ schema: 'replay/node/v1', run: 'r1', node: 'n1', state: 'working', items: [], staleAfterMs: 15_000, ...extra });

function problemOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(CorruptObjectError);
    return (error as Error).message;
  }
  throw new Error('expected a CorruptObjectError');
}

describe('small-record bounds', () => {
  it('a node record at the bounds decodes; one past them is corrupt, naming the field', () => {
    const items = Array.from({ length: MAX_RECORD_ARRAY }, (_, i) => ({ item: `0000000000-000000${String(i).padStart(4, '0')}`, epoch: 1 }));
    expect(decodeNodeRecord(KEY, node({ items })).items).toHaveLength(MAX_RECORD_ARRAY);
    expect(problemOf(() => decodeNodeRecord(KEY, node({ items: [...items, { item: 'x' }] })))).toBe(
      `corrupt object ${KEY}: field "items" holds ${MAX_RECORD_ARRAY + 1} entries (at most ${MAX_RECORD_ARRAY} in this kind of record); delete or fix it (it is skipped until then)`,
    );
    expect(problemOf(() => decodeNodeRecord(KEY, node({ addrs: Array.from({ length: 2_000 }, () => '/ip4/1.2.3.4/tcp/1') })))).toContain('field "addrs" holds 2000 entries');
  });

  it('deep nesting is refused without overflowing the stack (100,000 levels)', () => {
    const depth = 100_000;
    const deep = `${'['.repeat(depth)}${']'.repeat(depth)}`;
    const body = `{"schema":"replay/node/v1","run":"r1","node":"n1","state":"working","items":[],"staleAfterMs":15000,"extra":${deep}}`;
    expect(problemOf(() => decodeNodeRecord(KEY, body))).toContain(`is nested deeper than ${MAX_RECORD_DEPTH} levels`);
  });

  it('an object with too many fields is refused, a strange field name quoted on the one line', () => {
    const counts = Object.fromEntries(Array.from({ length: 5_000 }, (_, i) => [`k${i}`, i]));
    expect(problemOf(() => decodeNodeRecord(KEY, node({ counts })))).toContain('field "counts" holds 5000 fields');
    const odd = { 'a\nb<script>': Array.from({ length: 1_001 }, () => 0) };
    const message = problemOf(() => checkRecordBounds(KEY, odd));
    expect(message).not.toContain('\n');
    expect(message).toContain('["a\\nb<script>"]');
  });

  it('node and observer records over the byte bound are refused before parsing', () => {
    const body = node({ host: 'h'.repeat(MAX_RECORD_BYTES) });
    expect(problemOf(() => decodeNodeRecord(KEY, body))).toMatch(/: \d+ bytes \(at most 1048576 in this kind of record\)/);
    const observer = JSON.stringify({ schema: 'replay/observer/v1', observer: 'o', peerId: 'p', addrs: Array.from({ length: 1_500 }, () => 'a'), staleAfterMs: 1, seq: 1 });
    expect(problemOf(() => decodeObserverRecord('runs/r1/observers/o.json', observer))).toContain('field "addrs" holds 1500 entries');
  });
});
