import { describe, expect, it } from 'vitest';
import { TTL, WARN, World, leaseBody, resultBody } from './store-objects-world.js';

/**
 * Issue 19, defect 1: a `done` lease with no result beside it was counted
 * done and never replayed; the interval was silently lost. Now `done`
 * counts only with a result: the node reports it once and claims the item
 * again (a CAS on the done lease's ETag, docs/protocol.md §3.1), and
 * status does not count it done either.
 */
describe('a done lease without a result', () => {
  it('is reported once, claimed again and replayed; status does not count it done', async () => {
    const w = await new World({ items: 4 }).publish();
    const [lost] = w.items;
    const key = w.keys.lease(lost!);
    await w.put(key, leaseBody(w.run, lost!, { state: 'done', holder: 'gone-node', epoch: 3, attempts: 3, releasedAt: '2026-01-01T00:00:00.000Z' }));

    const before = await w.status();
    expect(before.items.done).toBe(0);
    expect(before.items.released).toBe(1);
    expect(before.problems).toContainEqual({ key, problem: expect.stringContaining('lease says done but there is no result') });

    const a = w.join('a');
    await w.until(() => a.exit() !== undefined, 20 * TTL);
    expect(a.exit()?.reason).toBe('run complete');

    const reports = w.said(`lease ${key} says done`, WARN);
    expect(reports).toHaveLength(1);
    expect(reports[0]!.msg).toContain(`${w.keys.result(lost!)} does not exist`);
    const results = await w.results();
    expect([...results.keys()].sort()).toEqual([...w.items].sort());
    expect(results.get(lost!)!.node).toBe('a');
    // Re-opened over the old lease: its epoch and attempts go on, nobody is blamed.
    expect(await w.lease(lost!)).toMatchObject({ state: 'done', holder: 'a', epoch: 4, attempts: 4, failedBy: [] });
    for (const item of w.items) expect((await w.lease(item))?.state).toBe('done');

    const after = await w.status();
    expect(after.items.done).toBe(4);
    expect(after.problems).toEqual([]);
  });

  it('a result deleted by an operator under a running node is replayed (its done lease no longer counts)', async () => {
    const w = await new World({ items: 3 }).publish();
    const a = w.join('a', { settings: { exitWhenDone: false } });
    await w.until(async () => (await w.results()).size === 3, 20 * TTL);
    const [victim] = w.items;
    const firstNonce = (await w.results()).get(victim!)!.nonce;
    await w.store.delete(w.keys.result(victim!));

    await w.until(async () => (await w.results()).has(victim!), 10 * TTL);
    const again = (await w.results()).get(victim!);
    expect(again).toBeDefined();
    expect(again!.nonce).not.toBe(firstNonce);
    expect(w.said(`lease ${w.keys.lease(victim!)} says done`)).toHaveLength(1);
    expect((await w.lease(victim!))?.state).toBe('done');
    expect(a.exit()).toBeUndefined();
    await w.stop(a);
  });

  it('a done lease whose result is there is final: no re-claim, no report', async () => {
    const w = await new World({ items: 2 }).publish();
    const [item] = w.items;
    await w.put(w.keys.result(item!), resultBody(w.run, item!));
    await w.put(w.keys.lease(item!), leaseBody(w.run, item!, { state: 'done' }));
    const a = w.join('a');
    await w.until(() => a.exit() !== undefined, 10 * TTL);
    expect(a.exit()?.reason).toBe('run complete');
    expect(w.said('says done')).toEqual([]);
    expect((await w.lease(item!))).toMatchObject({ state: 'done', holder: 'ghost', epoch: 1 });
  });
});
