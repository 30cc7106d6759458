import { describe, expect, it } from 'vitest';
import { runKeys } from '../../src/layout/keys.js';
import { encodeJson } from '../../src/layout/schema.js';
import { ManifestInputError } from '../../src/manifest/errors.js';
import { buildRerunManifest, parseItemList, selectRerunIntervals } from '../../src/manifest/rerun.js';
import { createMemoryStore } from '../../src/store/memory.js';
import { create } from '../../src/store/store.js';
import { ManualClock } from '../../src/time/manual-clock.js';
import { sampleManifest } from './support/manifests.js';
import type { Manifest } from '../../src/manifest/manifest.js';

const hash = (c: string) => c.repeat(64);
/** Five intervals of 100 blocks from 0; the last two carry expected hashes. */
function fiveIntervals(run: string, replicas = 1): Manifest {
  return sampleManifest(run, {
    replicas,
    intervals: [0, 100, 200, 300, 400].map((start) => ({
      start,
      end: start + 100,
      ...(start >= 300 ? { expectedEndHash: hash(String(start / 100)) } : {}),
    })),
  });
}
const ids = (m: { intervals: { start: number }[] }) => m.intervals.map((i) => i.start);

describe('rerun --from-block N', () => {
  const store = createMemoryStore({ clock: new ManualClock() });
  const from = fiveIntervals('old');

  it('takes every interval that ends after N (the one holding N included)', async () => {
    expect(ids(await selectRerunIntervals(store, from, { kind: 'from-block', block: 250 }))).toEqual([200, 300, 400]);
    expect(ids(await selectRerunIntervals(store, from, { kind: 'from-block', block: 300 }))).toEqual([300, 400]);
    expect(ids(await selectRerunIntervals(store, from, { kind: 'from-block', block: 0 }))).toEqual([0, 100, 200, 300, 400]);
  });

  it('refuses a block past the run', async () => {
    await expect(selectRerunIntervals(store, from, { kind: 'from-block', block: 500 })).rejects.toThrow(
      /no interval of run old ends after block 500 \(its last ends at 500\); give a smaller block/,
    );
  });
});

describe('rerun --items FILE', () => {
  const from = fiveIntervals('old', 2);

  it('accepts ids, replica ids, keys and `aws s3 ls` lines, comments and blank lines', () => {
    const text = [
      '# re-do these',
      '0000000100-0000000200',
      '',
      '2026-03-01 10:00:00        512 0000000300-0000000400.r2.json',
      'runs/old/results/0000000300-0000000400.r1.json',
      '0000000100-0000000200   # again',
    ].join('\r\n');
    expect([...parseItemList(text, 'items.txt', from)]).toEqual(['0000000100-0000000200', '0000000300-0000000400']);
  });

  it('refuses unknown ids and garbage with the line number', () => {
    expect(() => parseItemList('0000000100-0000000200\n0000000150-0000000200\n', 'items.txt', from)).toThrow(
      /^items\.txt line 2: 0000000150-0000000200 is not an item of run old; check the run id and the list$/,
    );
    expect(() => parseItemList('100-200\n', 'items.txt', from)).toThrow(/^items\.txt line 1: "100-200" is not an item id; write <start>-<end> with 10-digit block numbers/);
    expect(() => parseItemList('0000000100-0000000200.r3\n', 'items.txt', from)).toThrow(/line 1: 0000000100-0000000200\.r3 is not an item of run old/);
    expect(() => parseItemList('# nothing\n', 'items.txt', from)).toThrow(/^items\.txt: names no items/);
    expect(() => parseItemList('0000000100-0000000200.r1\n', 'items.txt', fiveIntervals('single'))).toThrow(/is not an item of run single/);
  });

  it('selects the named intervals (all their replicas)', async () => {
    const store = createMemoryStore({ clock: new ManualClock() });
    const selection = await selectRerunIntervals(store, from, { kind: 'items', text: '0000000400-0000000500.r1\n0000000000-0000000100\n', source: 'f' });
    expect(ids(selection)).toEqual([0, 400]);
  });
});

describe('rerun --failed', () => {
  it('picks items with failures and no result, conflicts, mismatching and corrupt results; not items that recovered', async () => {
    const store = createMemoryStore({ clock: new ManualClock() });
    const from = fiveIntervals('old', 2);
    const keys = runKeys('old');
    const result = (fields: Record<string, unknown>) => encodeJson({ schema: 'replay/result/v1', ...fields });
    const failure = encodeJson({ schema: 'replay/failure/v1', reason: 'crashed' });
    // 0-100.r1: failed twice, never finished -> failed
    await store.put(keys.failure('0000000000-0000000100.r1', '01A'), failure, create);
    await store.put(keys.failure('0000000000-0000000100.r1', '01B'), failure, create);
    // 0-100.r2, 100-200.r1/.r2: results that match -> not picked
    await store.put(keys.result('0000000000-0000000100.r2'), result({ endHash: hash('1'), verdict: 'unknown' }), create);
    await store.put(keys.result('0000000100-0000000200.r1'), result({ endHash: hash('1'), verdict: 'unknown' }), create);
    // 100-200.r2: failed once, then finished -> recovered, not picked
    await store.put(keys.failure('0000000100-0000000200.r2', '01C'), failure, create);
    await store.put(keys.result('0000000100-0000000200.r2'), result({ endHash: hash('1') }), create);
    // 200-300.r2: a conflict -> conflict
    await store.put(keys.result('0000000200-0000000300.r2'), result({ endHash: hash('2') }), create);
    await store.put(keys.conflict('0000000200-0000000300.r2', 'node-b', '01D'), encodeJson({ schema: 'replay/conflict/v1' }), create);
    // 300-400.r1: verdict mismatch; .r2: end hash differs from the expected one without a verdict -> mismatch
    await store.put(keys.result('0000000300-0000000400.r1'), result({ endHash: hash('f'), verdict: 'mismatch' }), create);
    await store.put(keys.result('0000000300-0000000400.r2'), result({ endHash: hash('F') }), create);
    // 400-500.r1: matches its expected hash (case aside); .r2: corrupt result -> corrupt-result
    await store.put(keys.result('0000000400-0000000500.r1'), result({ endHash: hash('4').toUpperCase(), verdict: 'match' }), create);
    await store.put(keys.result('0000000400-0000000500.r2'), '{"schema": "replay/res', create);
    // Foreign keys and items of no interval are skipped.
    await store.put(`${keys.failuresPrefix}notes.txt`, 'x', create);
    await store.put(keys.failure('0000000050-0000000100', '01E'), failure, create);

    const selection = await selectRerunIntervals(store, from, { kind: 'failed' });
    expect(Object.fromEntries(selection.reasons!)).toEqual({
      '0000000000-0000000100.r1': ['failed'],
      '0000000200-0000000300.r2': ['conflict'],
      '0000000300-0000000400.r1': ['mismatch'],
      '0000000300-0000000400.r2': ['mismatch'],
      '0000000400-0000000500.r2': ['corrupt-result'],
    });
    expect(ids(selection)).toEqual([0, 200, 300, 400]);
  });

  it('refuses when nothing failed', async () => {
    const store = createMemoryStore({ clock: new ManualClock() });
    await expect(selectRerunIntervals(store, fiveIntervals('old'), { kind: 'failed' })).rejects.toThrow(ManifestInputError);
    await expect(selectRerunIntervals(store, fiveIntervals('old'), { kind: 'failed' })).rejects.toThrow(/run old has no failed, conflicting or mismatching items; nothing to re-run/);
  });
});

describe('buildRerunManifest', () => {
  it('keeps snapshots, hashes, replicas, nodeos and defaults unless overridden; records where it came from', async () => {
    const from = sampleManifest('old', { replicas: 2, defaults: { leaseTtlMs: 45_000 } });
    const selection = { intervals: from.intervals.slice(1) };
    const rerun = buildRerunManifest(from, selection, {
      run: 'old-rerun-1',
      createdAt: '2026-03-05T00:00:00.000Z',
      nodeos: { version: 'v5.0.3' },
      defaults: { maxAttempts: 7, leaseTtlMs: undefined },
    }, { mode: 'from-block', fromBlock: 1000 });
    expect(rerun).toEqual({
      ...from,
      run: 'old-rerun-1',
      createdAt: '2026-03-05T00:00:00.000Z',
      nodeos: { version: 'v5.0.3' },
      defaults: { ...from.defaults, maxAttempts: 7 },
      intervals: from.intervals.slice(1),
      source: { kind: 'rerun', from: 'old', mode: 'from-block', fromBlock: 1000, intervals: 2 },
    });
    expect(rerun.defaults.leaseTtlMs).toBe(45_000);
  });
});
