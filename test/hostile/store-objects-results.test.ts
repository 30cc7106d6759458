import { describe, expect, it } from 'vitest';
import { CorruptObjectError } from '../../src/layout/schema.js';
import { decodeResult } from '../../src/records/result-record.js';
import { ERROR, TTL, WARN, World, resultBody } from './store-objects-world.js';

/**
 * Issue 19, defect 3: corrupt results were skipped silently by nodes: join
 * said `run complete` and exited 0 while status showed items pending, and
 * a result with a non-hex hash and a null head block counted as done.
 *
 * The rule: only a usable result (decodeResult with its key's run and item)
 * makes an item complete. An unusable one is reported by the nodes as an
 * error naming the key and the fix; its item is neither complete nor
 * replayed (no node overwrites or deletes a result); once the operator
 * deletes it, the item is replayed.
 */
describe('unusable results', () => {
  it('decodeResult checks contents and that the result is its key\'s', () => {
    const key = 'runs/r/results/0000000000-0000000100.json';
    const good = resultBody('r', '0000000000-0000000100');
    expect(decodeResult(key, good, { run: 'r', item: '0000000000-0000000100' }).endHash).toBe('ab'.repeat(32));
    const bad = (fields: Record<string, unknown>, expect_?: { run: string; item: string }) => () => decodeResult(key, resultBody('r', '0000000000-0000000100', fields), expect_);
    expect(bad({ endHash: 'not hex!' })).toThrow(/field "endHash"/);
    expect(bad({ startHash: 'zz' })).toThrow(/field "startHash"/);
    expect(bad({ headBlock: null })).toThrow(/field "headBlock"/);
    expect(bad({ headBlock: 99 })).toThrow(/field "headBlock"/);
    expect(bad({ headBlockId: 7 })).toThrow(/field "headBlockId"/);
    expect(bad({ epoch: 0 })).toThrow(/field "epoch"/);
    expect(bad({ item: '0000000000-0000000200' })).toThrow(/field "start\/end"/);
    expect(bad({ run: 'other' }, { run: 'r', item: '0000000000-0000000100' })).toThrow(CorruptObjectError);
    expect(() => decodeResult(key, good, { run: 'r', item: '0000000100-0000000200' })).toThrow(/names item/);
  });

  for (const [what, body] of [
    ['not JSON', (_run: string, _item: string) => '{"schema": "replay/result/v1", "endHash": '],
    ['a non-hex hash and a null head block', (run: string, item: string) => resultBody(run, item, { endHash: 'xyz', headBlock: null })],
    ['another item\'s result', (run: string, _item: string) => resultBody(run, '0000000300-0000000400', { start: 300, end: 400 })],
  ] as const) {
    it(`${what}: reported by the node as an error naming the key, never "run complete"; replayed once deleted`, async () => {
      const w = await new World({ items: 4 }).publish();
      const [bad] = w.items;
      const key = w.keys.result(bad!);
      await w.put(key, body(w.run, bad!));

      const before = await w.status();
      expect(before.items.done).toBe(0);
      expect(before.problems.map((p) => p.key)).toContain(key);

      const a = w.join('a');
      await w.until(async () => (await w.results()).size === 3, 20 * TTL);
      await w.advance(3 * TTL);
      expect(a.exit()).toBeUndefined(); // not "run complete": the item has no usable result
      const reports = w.said(`unusable result ${key}`, ERROR);
      expect(reports).toHaveLength(1);
      expect(reports[0]!.msg).toContain('delete the object and the item is replayed');
      expect((await w.status()).items.done).toBe(3);

      // The operator's fix: delete it.
      await w.store.delete(key);
      await w.until(() => a.exit() !== undefined, 10 * TTL);
      expect(a.exit()?.reason).toBe('run complete');
      const results = await w.results();
      expect(results.size).toBe(4);
      expect(results.get(bad!)!.node).toBe('a');
      expect(w.said(`unusable result ${key}`, ERROR)).toHaveLength(1);
      expect((await w.status()).items.done).toBe(4);
    });
  }

  it('results written by other nodes are trusted from their digests, without a GET each', async () => {
    const w = await new World({ items: 6 }).publish();
    const a = w.join('a', { settings: { exitWhenDone: false } });
    await w.until(async () => (await w.results()).size === 6, 20 * TTL);
    await w.advance(2 * TTL); // a's digest is written at a heartbeat
    await w.stop(a);
    const b = w.join('b');
    await w.until(() => b.exit() !== undefined, 10 * TTL);
    expect(b.exit()?.reason).toBe('run complete');
    expect(b.node.stats.resultReads).toBeLessThanOrEqual(2); // the digest (one or two), no result
    expect(w.said('unusable result', WARN)).toEqual([]);
  });
});
