import { describe, expect, it } from 'vitest';
import { countRequests } from '../../src/store/counting-store.js';
import { AlreadyExistsError, PreconditionFailedError } from '../../src/store/errors.js';
import { MemoryStore } from '../../src/store/memory.js';
import { create, overwrite, update } from '../../src/store/store.js';
import { ManualClock } from '../../src/time/manual-clock.js';
import { systemClock } from '../../src/time/system-clock.js';
import { storeConformanceTests } from '../conformance/store.js';
import { testRandom } from '../support/wall-clock.js';

// Processes cannot share a memory store, so the suite's contended cases run
// as concurrent async tasks here; 0-2 ms of injected latency per request
// makes them interleave between the condition check and the write.
storeConformanceTests('memory', {
  setup: async () => ({ store: new MemoryStore({ clock: systemClock, latencyMs: () => testRandom() * 2 }) }),
  // The memory store holds bodies in memory: the round trip checks content, not flatness.
  bigObjectBytes: 16 * 1024 * 1024,
  flatMemory: false,
});

describe('memory store specifics', () => {
  it('stamps lastModified and storeDate with the injected clock', async () => {
    const clock = new ManualClock(Date.UTC(2030, 4, 6));
    const store = new MemoryStore({ clock });
    const put = await store.put('a', 'x', create);
    expect(put.storeDate.getTime()).toBe(Date.UTC(2030, 4, 6));
    await clock.advance(5000);
    const head = await store.head('a');
    expect(head.lastModified.getTime()).toBe(Date.UTC(2030, 4, 6));
    expect(head.storeDate.getTime()).toBe(Date.UTC(2030, 4, 6) + 5000);
  });

  it('with latency on a manual clock, concurrent creates all wait, then exactly one wins', async () => {
    const clock = new ManualClock();
    const store = new MemoryStore({ clock, latencyMs: 20 });
    const attempts = Array.from({ length: 16 }, (_, i) => store.put('k', `w${i}`, create).then(() => i, (e: unknown) => e));
    await Promise.resolve();
    expect(clock.pendingSleeps).toBe(16);
    expect(store.size).toBe(0);
    await clock.advance(20);
    const results = await Promise.all(attempts);
    const winners = results.filter((r) => typeof r === 'number');
    expect(winners).toHaveLength(1);
    expect(results.filter((r) => r instanceof AlreadyExistsError)).toHaveLength(15);
    const read = store.get('k');
    await clock.advance(20);
    expect(new TextDecoder().decode(((await read) as { body: Uint8Array }).body)).toBe(`w${winners[0]}`);
  });

  it('counts requests by kind, its own and through countRequests alike', async () => {
    const store = new MemoryStore({ clock: new ManualClock() });
    const wrapped = countRequests(store);
    const { etag } = await wrapped.put('a', '1', create);
    await expect(wrapped.put('a', '1', create)).rejects.toBeInstanceOf(AlreadyExistsError);
    await expect(wrapped.put('a', '2', update('stale'))).rejects.toBeInstanceOf(PreconditionFailedError);
    await wrapped.put('a', '2', update(etag));
    await wrapped.put('a', '3', overwrite);
    await wrapped.get('a');
    await wrapped.get('a', { ifNoneMatch: (await wrapped.head('a')).etag });
    await wrapped.list({ prefix: '' });
    await wrapped.delete('a');
    const expected = {
      get: 2, getNotModified: 1, getStream: 0, head: 1, put: 5, putCreate: 2, putUpdate: 2, putOverwrite: 1,
      list: 1, delete: 1, conditionalFailures: 2, total: 10,
    };
    expect(wrapped.counters).toEqual(expected);
    expect(store.counters).toEqual(expected);
    wrapped.resetCounters();
    expect(wrapped.counters.total).toBe(0);
  });
});
