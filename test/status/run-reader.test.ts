import { beforeEach, describe, expect, it } from 'vitest';
import { digestEntryOf, encodeDigest } from '../../src/records/digest-record.js';
import { RunReader } from '../../src/status/index.js';
import { createMemoryStore, type MemoryStore } from '../../src/store/memory.js';
import { ManualClock } from '../../src/time/manual-clock.js';
import { fakeUlid, RunFixture } from './support/run-fixture.js';

let clock: ManualClock;
let store: MemoryStore;
let run: RunFixture;
let items: string[];

beforeEach(async () => {
  clock = new ManualClock();
  store = createMemoryStore({ clock });
  run = new RunFixture(store, 'r1');
  await run.publish({ count: 30 });
  items = run.itemIds();
  for (const item of items.slice(0, 10)) await run.done(item);
  for (const item of items.slice(10, 14)) await run.lease(item, { holder: 'n1' });
  await run.failure(items[14]!);
  await run.node('n1');
  store.resetCounters();
});

describe('RunReader', () => {
  it('reads each object once, skips leases of done items, and re-reads only what changed', async () => {
    const reader = new RunReader({ store, clock, run: 'r1', concurrency: 4 });
    await reader.refresh();
    // manifest + 10 results + 4 live leases + 1 failure + 1 node record; one listing per prefix (7).
    expect(store.counters).toMatchObject({ get: 17, list: 7 });
    store.resetCounters();
    await reader.refresh();
    expect(store.counters).toMatchObject({ get: 0, list: 7 });

    store.resetCounters();
    await run.lease(items[10]!, { holder: 'n1' });
    await run.node('n1', { seq: 2 });
    await run.done(items[11]!);
    await reader.refresh();
    // The renewed lease, the heartbeat and the new result; the done item's lease is not read.
    expect(store.counters.get).toBe(3);
    expect(reader.state().results.size).toBe(11);
  });

  it('drops objects that disappeared (an operator deleted a failed lease to retry it)', async () => {
    const reader = new RunReader({ store, clock, run: 'r1' });
    await reader.refresh();
    await store.delete(run.keys.lease(items[12]!));
    await reader.refresh();
    expect(reader.state().leases.has(items[12]!)).toBe(false);
  });

  it('refreshItem reads one item with a handful of requests; refreshNodes reads heartbeats only', async () => {
    const reader = new RunReader({ store, clock, run: 'r1' });
    await reader.refresh();
    await run.done(items[12]!);
    await run.failure(items[12]!);
    store.resetCounters();
    const state = await reader.refreshItem(items[12]!);
    expect(state.results.get(items[12]!)?.value?.endHash).toBeDefined();
    expect([...state.failures.values()].filter((f) => f.value?.item === items[12])).toHaveLength(1);
    // result GET, two item-scoped listings, the failure GET; the lease is not needed once there is a result.
    expect(store.counters).toMatchObject({ get: 2, list: 2 });

    await run.node('n2');
    store.resetCounters();
    await reader.refreshNodes();
    expect(store.counters).toMatchObject({ get: 1, list: 2 });
    expect([...reader.state().nodes.keys()]).toEqual(['n1', 'n2']);
  });

  it('a failing store rejects the refresh, keeps what was read, and finishes on the next one', async () => {
    const reader = new RunReader({ store, clock, run: 'r1' });
    const get = store.get.bind(store);
    let failures = 3;
    store.get = async (key, options) => {
      if (key.includes('/results/') && failures-- > 0) throw Object.assign(new Error('boom'), { name: 'Unavailable' });
      return get(key, options);
    };
    await expect(reader.refresh()).rejects.toThrow('boom');
    expect(reader.state().complete).toBe(false);
    expect(reader.state().results.size).toBe(10);
    await reader.refresh();
    expect(reader.state().complete).toBe(true);
    expect([...reader.state().results.values()].every((r) => r.value)).toBe(true);
  });

  it('refreshLeases looks only at leases it could not judge soon: none after a listing, one conditional GET per held lease about to lapse', async () => {
    const reader = new RunReader({ store, clock, run: 'r1' });
    await reader.refresh();
    store.resetCounters();
    await reader.refreshLeases(clock.monotonic() + 30_000);
    expect(store.counters).toMatchObject({ get: 0, list: 0 });
    // The four held leases (TTL 60 s) would turn unknown 60 s after they were first seen: due now.
    await run.lease(items[10]!, { holder: 'n1' });
    await reader.refreshLeases(clock.monotonic() + 61_000);
    expect(store.counters).toMatchObject({ get: 4, list: 0 });
    const lease = reader.state().leases.get(items[11]!)!;
    expect(lease.lastSeenAt).toBe(clock.monotonic());
    // Done items' leases are never read; a released lease never lapses: only the three held ones are due.
    await run.lease(items[12]!, { holder: 'n1', state: 'released' });
    await reader.refresh();
    store.resetCounters();
    await reader.refreshLeases(clock.monotonic() + 600_000);
    expect(store.counters.get).toBe(3);
  });

  it('applies a changed lease when its GET answers: meanwhile the older entry is shown whole, never a new ETag with an older value', async () => {
    const reader = new RunReader({ store, clock, run: 'r1' });
    await reader.refresh();
    const before = reader.state().leases.get(items[10]!)!;
    await run.lease(items[10]!, { holder: 'n1', state: 'released' });
    const get = store.get.bind(store);
    let answer!: () => void;
    const held = new Promise<void>((resolve) => (answer = resolve));
    let asked!: () => void;
    const inFlight = new Promise<void>((resolve) => (asked = resolve));
    store.get = async (key, options) => {
      if (key === run.keys.lease(items[10]!)) {
        asked();
        await held;
      }
      return get(key, options);
    };
    const refreshing = reader.refresh();
    await inFlight;
    const during = reader.state().leases.get(items[10]!)!;
    expect([during.etag, during.value?.state, during.outdated]).toEqual([before.etag, 'held', undefined]);
    answer();
    await refreshing;
    const after = reader.state().leases.get(items[10]!)!;
    expect([after.etag === before.etag, after.value?.state, after.outdated]).toEqual([false, 'released', undefined]);
  });

  describe('results digests', () => {
    const resultGets = (keys: string[]) => keys.filter((k) => k.includes('/results/'));
    beforeEach(() => {
      store = createMemoryStore({ clock });
      run = new RunFixture(store, 'r1');
    });

    it('takes covered results from the digest (no result GETs) and recomputes the verdict from the manifest', async () => {
      await run.publish({ count: 4, expected: (end) => (end === 2000 ? 'f'.repeat(64) : undefined) });
      const ids = run.itemIds();
      // The node's record says "match" for a hash the manifest does not expect: the reader must not believe it.
      const written = [await run.result(ids[0]!, { node: 'n1' }), await run.result(ids[1]!, { node: 'n1', verdict: 'match' }), await run.result(ids[2]!, { node: 'n1' })];
      await run.digest('n1', written);
      const gets: string[] = [];
      const get = store.get.bind(store);
      store.get = async (key, options) => (gets.push(key), get(key, options));
      const reader = new RunReader({ store, clock, run: 'r1' });
      const state = await reader.refresh();
      expect(resultGets(gets)).toEqual([]);
      expect(state.complete).toBe(true);
      expect(state.results.get(ids[0]!)?.value).toMatchObject({ node: 'n1', endHash: written[0]!.endHash, startHash: written[0]!.startHash, verdict: 'unverified' });
      expect(state.results.get(ids[1]!)?.value?.verdict).toBe('mismatch');
      // A digest never makes an item done: only listed results count.
      expect(state.results.has(ids[3]!)).toBe(false);
    });

    it('reads what no digest covers, what was rewritten after its digest, and what two digests dispute', async () => {
      await run.publish({ count: 4 });
      const ids = run.itemIds();
      const first = await run.result(ids[0]!, { node: 'n1' });
      const second = await run.result(ids[1]!, { node: 'n1' });
      await run.digest('n1', [first, second]);
      await run.digest('n2', [{ ...second, node: 'n2', endHash: 'e'.repeat(64) }]);
      await clock.advance(1_000);
      const rewritten = await run.result(ids[0]!, { node: 'n3', endHash: 'd'.repeat(64) });
      await run.result(ids[2]!, { node: 'n1' });
      const gets: string[] = [];
      const get = store.get.bind(store);
      store.get = async (key, options) => (gets.push(key), get(key, options));
      const state = await new RunReader({ store, clock, run: 'r1' }).refresh();
      expect(resultGets(gets).sort()).toEqual([run.keys.result(ids[0]!), run.keys.result(ids[1]!), run.keys.result(ids[2]!)]);
      expect(state.results.get(ids[0]!)?.value).toMatchObject({ node: 'n3', endHash: rewritten.endHash });
      expect(state.results.get(ids[1]!)?.value).toMatchObject({ node: 'n1', endHash: second.endHash });
    });

    it('reports a corrupt digest or one under another node\'s name, and reads its results instead', async () => {
      await run.publish({ count: 2 });
      const ids = run.itemIds();
      const result = await run.result(ids[0]!, { node: 'n1' });
      const corrupt = run.keys.digest('n1', fakeUlid());
      await run.raw(corrupt, '{"schema":"replay/digest/v1","run":"r1","node":"n1","results":[{"item":3}]}');
      const digestOfN1 = { schema: 'replay/digest/v1' as const, run: 'r1', node: 'n1', writtenAt: '2026-01-01T00:00:00.000Z', results: [digestEntryOf(result)] };
      await run.raw(run.keys.digest('n2', fakeUlid()), encodeDigest(digestOfN1));
      const state = await new RunReader({ store, clock, run: 'r1' }).refresh();
      expect(state.results.get(ids[0]!)?.value?.endHash).toBe(result.endHash);
      const problems = [...state.problems.entries()].filter(([key]) => key.includes('/digests/'));
      expect(problems).toHaveLength(2);
      expect(problems.find(([key]) => key === corrupt)?.[1]).toMatch(/entry is invalid/);
      expect(problems.find(([key]) => key !== corrupt)?.[1]).toMatch(/names node "n1", not n2/);
    });
  });
});
