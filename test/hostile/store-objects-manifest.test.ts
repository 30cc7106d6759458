import { describe, expect, it } from 'vitest';
import { buildManifest } from '../../src/manifest/build-manifest.js';
import { encodeJson } from '../../src/layout/schema.js';
import { ERROR, TTL, World } from './store-objects-world.js';

/**
 * Issue 19, defect 4: a node kept working while its run's manifest was
 * replaced under it. Runs are immutable: nodes look at the manifest's ETag
 * at their rescans (a conditional GET, at most one per heartbeat) and stop
 * work on the run, with one error line, when it changed.
 */
describe('a replaced manifest', () => {
  it('stops the node with one error line; leases are released; restored, the run completes', async () => {
    const w = await new World({ items: 8 }).publish();
    const original = encodeJson(w.manifest);
    // Items of 3 s, so that the node is mid-item when the manifest changes.
    const a = w.join('a', { faults: { slow: { blocksPerSecond: 33 } } });
    await w.advance(4_000);
    const replaced = buildManifest({
      run: w.run, createdAt: '2026-02-01T00:00:00Z',
      intervals: [{ start: 0, end: 50 }, { start: 50, end: 800 }],
      defaults: { leaseTtlMs: TTL },
    });
    await w.put(w.keys.manifest, encodeJson(replaced));
    // Seen at the next heartbeat (TTL/3), mid-item: the node does not finish the run first.
    expect(await w.until(() => a.exit() !== undefined, 5 * TTL)).toBeLessThanOrEqual(TTL);
    expect(a.exit()).toMatchObject({ reason: 'error', detail: expect.stringContaining(`the manifest ${w.keys.manifest} was replaced`) });
    const lines = w.said(`the manifest ${w.keys.manifest} was replaced`, ERROR);
    expect(lines).toHaveLength(1);
    expect(lines[0]!.msg).toContain('runs are immutable');
    expect(lines[0]!.msg).toContain('changed: intervals');
    // It let its item go: nothing it held stays held.
    for (const item of w.items) expect((await w.lease(item))?.state ?? 'none').not.toBe('held');

    // The operator restores the run's definition; a node finishes every item.
    await w.put(w.keys.manifest, original);
    const b = w.join('b');
    await w.until(() => b.exit() !== undefined, 20 * TTL);
    expect(b.exit()?.reason).toBe('run complete');
    expect((await w.results()).size).toBe(8);
    for (const item of w.items) expect((await w.lease(item))?.state).toBe('done');
  });

  it('a deleted manifest stops the node too', async () => {
    const w = await new World({ items: 4 }).publish();
    const a = w.join('a', { faults: { slow: { blocksPerSecond: 33 } } });
    await w.advance(2_000);
    await w.store.delete(w.keys.manifest);
    await w.until(() => a.exit() !== undefined, 5 * TTL);
    expect(a.exit()).toMatchObject({ reason: 'error', detail: expect.stringContaining('was deleted') });
    expect(w.said('was deleted', ERROR)).toHaveLength(1);
  });

  it('a manifest that turned into corrupt JSON: the node stops naming it; status lists it as a problem', async () => {
    const w = await new World({ items: 4 }).publish();
    const a = w.join('a', { faults: { slow: { blocksPerSecond: 33 } } });
    await w.advance(2_000);
    await w.put(w.keys.manifest, '{"schema": "replay/manifest/v1", ');
    await w.until(() => a.exit() !== undefined, 5 * TTL);
    expect(a.exit()).toMatchObject({ reason: 'error', detail: expect.stringContaining('replaced by an unusable object') });
    expect(w.said(`corrupt object ${w.keys.manifest}`, ERROR)).toHaveLength(1);
    const status = await w.status();
    expect(status.complete).toBe(false);
    expect(status.problems).toContainEqual({ key: w.keys.manifest, problem: expect.stringContaining('not valid JSON') });
  });

  it('the same run written again (new ETag, same definition) is not a change', async () => {
    const w = await new World({ items: 4 }).publish();
    const a = w.join('a');
    await w.advance(1_500);
    // Same content, other formatting and provenance: a new ETag.
    await w.put(w.keys.manifest, JSON.stringify({ ...w.manifest, createdAt: '2027-01-01T00:00:00Z' }));
    await w.until(() => a.exit() !== undefined, 20 * TTL);
    expect(a.exit()?.reason).toBe('run complete');
    expect(w.said('manifest', ERROR)).toEqual([]);
    expect((await w.results()).size).toBe(4);
  });
});
