import { describe, expect, it } from 'vitest';
import { hostFaultOf } from '../../src/node/host-fault.js';
import { failureCounts } from '../../src/node/retry-rule.js';
import type { FailureRecord } from '../../src/records/failure-record.js';
import { RunnerConfigError } from '../../src/runner/runner-config-error.js';
import { RunnerFailure, type Runner } from '../../src/runner/runner.js';
import { getIfExists } from '../../src/store/get-if-exists.js';
import { ERROR, TTL, World } from './store-objects-world.js';

/**
 * Issue 19, defect 5: one bad host failed the whole run. With an unusable
 * data directory the one node failed every item three times itself
 * (`failedBy: [a, a, a]`) and every lease ended `failed`. Now a host fault
 * (src/node/host-fault.ts) releases the lease without counting the attempt,
 * the node says so in one line, stops claiming and exits; and the retry
 * limit counts distinct nodes, or the same node again only once it proved
 * healthy (src/node/retry-rule.ts).
 */

/** A runner on a host whose data directory cannot be written: what `mkdir` in it throws. */
function brokenDataDir(): Runner {
  return {
    name: 'sim',
    prepare: async () => {},
    close: async () => {},
    run: async () => {
      const error = new Error("EACCES: permission denied, mkdir '/data/items/0000000000-0000000100'") as NodeJS.ErrnoException;
      error.code = 'EACCES';
      throw error;
    },
  };
}

function failingWith(error: () => Error): Runner {
  return { name: 'sim', prepare: async () => {}, close: async () => {}, run: async () => Promise.reject(error()) };
}

async function failureRecords(w: World): Promise<FailureRecord[]> {
  const records: FailureRecord[] = [];
  for (const key of await w.keysUnder(w.keys.failuresPrefix)) records.push(JSON.parse(Buffer.from((await getIfExists(w.store, key))!.body).toString()) as FailureRecord);
  return records;
}

describe('one bad host', () => {
  it('host faults: the list', () => {
    const errno = (code: string) => Object.assign(new Error(`${code}: nope`), { code });
    expect(hostFaultOf(errno('EACCES'))?.reason).toBe('data-dir-unusable');
    expect(hostFaultOf(errno('EROFS'))?.reason).toBe('data-dir-unusable');
    expect(hostFaultOf(errno('ENOSPC'))?.reason).toBe('data-dir-unusable');
    expect(hostFaultOf(new Error('wrapped', { cause: errno('EPERM') }))?.reason).toBe('data-dir-unusable');
    expect(hostFaultOf(new RunnerFailure('insufficient-disk', 'only 1 GiB free'))?.reason).toBe('insufficient-disk');
    expect(hostFaultOf(new RunnerFailure('spawn-failed', 'cannot start nodeos'))?.reason).toBe('spawn-failed');
    expect(hostFaultOf(new RunnerConfigError('the data directory is in use'))?.reason).toBe('runner-config');
    for (const reason of ['crashed', 'stalled', 'corrupt-snapshot', 'missing-snapshot', 'fetch-failed', 'wrong-head']) {
      expect(hostFaultOf(new RunnerFailure(reason, 'x')), reason).toBeUndefined();
    }
    expect(hostFaultOf(errno('ENOENT'))).toBeUndefined();
    expect(hostFaultOf(new Error('plain'))).toBeUndefined();
  });

  it('the retry rule: distinct nodes; the same node again only once healthy, or when nobody fresh is left', () => {
    const base = { node: 'a', provedHealthy: false, liveNodes: ['b'] };
    expect(failureCounts({ ...base, failedBy: [] })).toBe(true);
    expect(failureCounts({ ...base, failedBy: ['a'] })).toBe(false);
    expect(failureCounts({ ...base, failedBy: ['a'], provedHealthy: true })).toBe(true);
    expect(failureCounts({ ...base, failedBy: ['a', 'b'] })).toBe(true);
    expect(failureCounts({ ...base, failedBy: ['a'], liveNodes: [] })).toBe(true);
  });

  it('an unusable data directory: one line, the node stops claiming and exits, nothing is failed; a good node finishes every item', async () => {
    const w = await new World({ items: 6, maxAttempts: 3 }).publish();
    const bad = w.join('bad', { runner: brokenDataDir() });
    await w.until(() => bad.exit() !== undefined, 5 * TTL);
    expect(bad.exit()).toMatchObject({ reason: 'error', detail: expect.stringContaining('host fault (data-dir-unusable)') });
    const lines = w.said('host fault (data-dir-unusable)', ERROR);
    expect(lines).toHaveLength(1);
    expect(lines[0]!.msg).toContain('stops claiming');
    // It tried one item and let it go, uncounted.
    const records = await failureRecords(w);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ node: 'bad', reason: 'data-dir-unusable', hostFault: true, counted: false, final: false });
    const tried = records[0]!.item;
    expect(await w.lease(tried)).toMatchObject({ state: 'released', failedBy: [], reason: 'host-fault: data-dir-unusable' });

    const good = w.join('good');
    await w.until(() => good.exit() !== undefined, 20 * TTL);
    expect(good.exit()?.reason).toBe('run complete');
    const results = await w.results();
    expect(results.size).toBe(6);
    for (const item of w.items) expect(await w.lease(item)).toMatchObject({ state: 'done', failedBy: [] });
  });

  it('a bad host beside good ones, concurrency 2: its items go to the others, nobody is blamed', async () => {
    const w = await new World({ items: 8, maxAttempts: 2 }).publish();
    const good = w.join('good');
    const bad = w.join('bad', { runner: failingWith(() => new RunnerFailure('insufficient-disk', 'only 0.1 GiB free on /data, the run needs 50 GiB')), settings: { concurrency: 2 } });
    await w.until(() => good.exit() !== undefined && bad.exit() !== undefined, 30 * TTL);
    expect(bad.exit()).toMatchObject({ reason: 'error', detail: expect.stringContaining('host fault (insufficient-disk)') });
    expect(w.said('host fault (insufficient-disk)', ERROR)).toHaveLength(1);
    expect(good.exit()?.reason).toBe('run complete');
    expect((await w.results()).size).toBe(8);
    for (const item of w.items) expect((await w.lease(item))?.failedBy).toEqual([]);
  });

  it('an item that fails everywhere still ends failed, after distinct nodes (a lone node: after its own tries)', async () => {
    const w = await new World({ items: 3, maxAttempts: 3 }).publish();
    const [doomed] = w.items;
    const faults = { crashAt: { item: doomed!, block: 50 } };
    const a = w.join('a', { faults });
    await w.until(() => a.exit() !== undefined, 30 * TTL);
    expect(a.exit()?.reason).toBe('run complete');
    expect(await w.lease(doomed!)).toMatchObject({ state: 'failed', failedBy: ['a', 'a', 'a'] });

    const v = await new World({ items: 4, maxAttempts: 3, run: 'everywhere' }).publish();
    const [bad] = v.items;
    const nodes = ['x', 'y', 'z'].map((id) => v.join(id, { faults: { crashAt: { item: bad!, block: 50 } } }));
    await v.until(() => nodes.every((n) => n.exit() !== undefined), 60 * TTL);
    expect(nodes.map((n) => n.exit()?.reason)).toEqual(['run complete', 'run complete', 'run complete']);
    const lease = await v.lease(bad!);
    expect(lease?.state).toBe('failed');
    expect(lease!.failedBy).toHaveLength(3);
    expect(new Set(lease!.failedBy).size).toBe(3);
    expect((await v.results()).size).toBe(3);
  });

  it('a node that failed an item and proved nothing since leaves it to a fresh live node, however long; its retry is not counted', async () => {
    const w = await new World({ items: 1, maxAttempts: 2 }).publish();
    const [item] = w.items;
    const control = (paused: boolean) => w.put(w.keys.control('b'), JSON.stringify({
      schema: 'replay/control/v1', run: w.run, target: 'b', paused, drain: false, requestedBy: 'test', requestedAt: '2026-01-01T00:00:00.000Z',
    }));
    await control(true);
    // `b` is alive but paused: a fresh node that does not claim. `a` crashes on the item every time.
    const b = w.join('b');
    const a = w.join('a', { faults: { crashAt: { item: item!, block: 50, node: 'a' } } });
    await w.advance(8 * TTL);
    // Before: `a` took it again after one TTL and its second failure ended the item (failedBy [a, a]).
    expect(await w.lease(item!)).toMatchObject({ state: 'released', failedBy: ['a'] });
    expect((await failureRecords(w)).map((f) => f.node)).toEqual(['a']);

    await control(false);
    await w.until(() => a.exit() !== undefined && b.exit() !== undefined, 20 * TTL);
    expect([a.exit()?.reason, b.exit()?.reason]).toEqual(['run complete', 'run complete']);
    expect((await w.results()).get(item!)!.node).toBe('b');
    expect(await w.lease(item!)).toMatchObject({ state: 'done', failedBy: ['a'] });
  });
});
