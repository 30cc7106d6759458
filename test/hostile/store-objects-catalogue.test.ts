import { describe, expect, it } from 'vitest';
import { TTL, ULID, WARN, World, leaseBody, resultBody } from './store-objects-world.js';

/**
 * Issue 19, defect 6: the cases that already held, each checked: bad
 * objects of every kind in the bucket are reported (a node's warning line
 * naming the key where a node reads that kind, else a status problem) and
 * skipped, and every item still ends with a result.
 */
const GARBAGE = '{"schema": "replay/';

describe('corrupt and foreign objects in the bucket', () => {
  it('corrupt JSON of every record kind: reported by key; the run completes with two nodes', async () => {
    const w = await new World({ items: 6 }).publish();
    const k = w.keys;
    const [i0, i1, i2, i3] = w.items;
    const planted = {
      lease: k.lease(i0!),
      node: k.node('ghost'),
      control: k.control('all'),
      observer: k.observer('watcher'),
      failure: k.failure(i1!, ULID),
      conflict: k.conflict(i2!, 'ghost', ULID),
      digest: k.digest('ghost', ULID),
    };
    for (const key of Object.values(planted)) await w.put(key, GARBAGE);
    // A result written by another node, so that the end-of-run check reads the (corrupt) digest.
    await w.put(k.result(i3!), resultBody(w.run, i3!));

    const nodes = [w.join('a'), w.join('b')];
    await w.until(() => nodes.every((n) => n.exit() !== undefined), 30 * TTL);
    expect(nodes.map((n) => n.exit()?.reason)).toEqual(['run complete', 'run complete']);
    expect((await w.results()).size).toBe(6);
    for (const item of w.items) expect((await w.lease(item))?.state, item).not.toBe('held');

    // Read by nodes: one warning naming the key.
    expect(w.said('replacing a corrupt lease object').map((l) => l.key)).toContain(planted.lease);
    for (const kind of ['node', 'control', 'observer', 'digest'] as const) {
      expect(w.said(`corrupt object ${planted[kind]}`, WARN).length, kind).toBeGreaterThanOrEqual(1);
    }
    // Read by status: every planted key but the replaced lease is a problem (failures and conflicts are only read there).
    const problems = new Map((await w.status()).problems.map((p) => [p.key, p.problem]));
    for (const kind of ['node', 'observer', 'failure', 'conflict', 'digest'] as const) {
      expect(problems.get(planted[kind]), kind).toContain('corrupt object');
    }
    expect((await w.status()).items.done).toBe(6);
  });

  it('foreign keys under runs/<run>/ are skipped; a lease whose body names another item is replaced once expired', async () => {
    const w = await new World({ items: 4 }).publish();
    const k = w.keys;
    const [i0, i1] = w.items;
    const foreign = [
      `${k.leasesPrefix}not-an-item.json`,
      `${k.leasesPrefix}0000000000-0000000100.json.bak`,
      `${k.resultsPrefix}${i1!}.json.old`,
      `${k.resultsPrefix}9999999990-9999999999.json`,
      `${k.nodesPrefix}readme.txt`,
      `${k.digestsPrefix}stray.json`,
      `${k.root}scratch/notes.txt`,
      `${k.root}unknown-kind/thing.json`,
    ];
    for (const key of foreign) await w.put(key, 'an operator was here');
    // The key says i0, the body says i1.
    await w.put(k.lease(i0!), leaseBody(w.run, i1!));

    const a = w.join('a');
    await w.until(() => a.exit() !== undefined, 30 * TTL);
    expect(a.exit()?.reason).toBe('run complete');
    expect((await w.results()).size).toBe(4);
    expect(await w.lease(i0!)).toMatchObject({ item: i0, state: 'done' });
    const replaced = w.said('replacing a corrupt lease object').find((l) => l.key === k.lease(i0!));
    expect(replaced?.problem).toContain('names another run or item');
    // Foreign objects are left alone.
    for (const key of foreign) expect(await w.keysUnder(key)).toEqual([key]);
    expect(w.lines.filter((l) => l.level >= 50)).toEqual([]);
  });
});
