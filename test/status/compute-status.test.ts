import { beforeEach, describe, expect, it } from 'vitest';
import type { PeerState } from '../../src/gossip/hints.js';
import { computeRunStatus, computeRunView, RunReader, STATUS_SCHEMA, type RunStatus } from '../../src/status/index.js';
import { createMemoryStore, type MemoryStore } from '../../src/store/memory.js';
import { ManualClock } from '../../src/time/manual-clock.js';
import { hashOf, RunFixture } from './support/run-fixture.js';

let clock: ManualClock;
let store: MemoryStore;
let run: RunFixture;
let items: string[];

const statusNow = async (peers?: PeerState[]): Promise<RunStatus> => {
  const reader = new RunReader({ store, clock, run: 'r1' });
  return computeRunStatus(await reader.refresh(), { now: { monotonic: clock.monotonic(), wall: clock.now() }, ...(peers ? { peers } : {}) });
};

beforeEach(async () => {
  clock = new ManualClock();
  store = createMemoryStore({ clock });
  run = new RunFixture(store, 'r1');
  // Item 5 has an expected hash the result matches, item 6 one it does not.
  await run.publish({ count: 9, span: 1000, expected: (end, i) => (i === 5 ? hashOf(end) : i === 6 ? 'f'.repeat(64) : undefined) });
  items = run.itemIds();
});

describe('status computation', () => {
  it('puts every item in exactly one state and counts verdicts, progress, failures and conflicts', async () => {
    // n2 dies: its record and lease are written, then the clock runs past both (stale-after, TTL) while n1 keeps beating.
    await run.node('n2', { items: [{ item: items[2]!, epoch: 1, startedAt: 'x', headBlock: 2500 }] });
    await run.lease(items[2]!, { holder: 'n2', ttlMs: 15_000 });
    await clock.advance(20_000);
    await run.node('n1', { items: [{ item: items[1]!, epoch: 3, startedAt: 'x', headBlock: 1400, blocksPerSecond: 50 }], seq: 9 });
    await run.lease(items[1]!, { holder: 'n1', epoch: 3 });
    await run.lease(items[3]!, { state: 'released', reason: 'stopping' });
    await run.done(items[4]!);
    await run.done(items[5]!);
    await run.done(items[6]!);
    await run.lease(items[7]!, { state: 'failed', attempts: 3, failedBy: ['n1', 'n2', 'n3'] });
    await run.failure(items[7]!, { reason: 'stalled', node: 'n2', attempt: 2 });
    await run.failure(items[7]!, { reason: 'corrupt-snapshot', node: 'n3', attempt: 3, final: true, message: 'bad zstd frame' });
    const canonical = await run.done(items[8]!);
    await run.conflict(items[8]!, canonical, { node: 'n3', endHash: 'c'.repeat(64) });

    const reader = new RunReader({ store, clock, run: 'r1' });
    const view = computeRunView(await reader.refresh(), { now: { monotonic: clock.monotonic(), wall: clock.now() } });
    const s = view.status;
    expect(s.schema).toBe(STATUS_SCHEMA);
    expect(s.complete).toBe(true);
    expect(s.items).toEqual({ pending: 1, working: 1, expired: 1, released: 1, done: 3, failed: 1, conflict: 1, unknown: 0, total: 9 });
    expect(view.cells).toBe('.wxrddmfc');
    expect(s.verdicts).toEqual({ match: 1, mismatch: 1, unverified: 1, conflict: 1, unread: 0 });
    expect(s.mismatches).toEqual([{ item: items[6], endHash: hashOf(7000), expectedEndHash: 'f'.repeat(64), node: 'n1' }]);
    // 4 items with results (4,000 blocks) plus 400 replayed blocks of the working item; a dead node's progress does not count.
    expect(s.progress).toMatchObject({ blocksDone: 4400, blocksTotal: 9000, percentBlocks: 48.8, percentItems: 44.4, blocksPerSecond: 50 });
    expect(s.progress.etaSeconds).toBe(Math.round(4600 / 50));
    expect(s.failed).toEqual([
      { item: items[7], attempts: 3, failedBy: ['n1', 'n2', 'n3'], reason: 'corrupt-snapshot', message: 'bad zstd frame', node: 'n3', at: expect.any(String), failureRecords: 2 },
    ]);
    expect(s.recentFailures.map((f) => f.reason)).toEqual(['corrupt-snapshot', 'stalled']);
    expect(s.conflicts).toEqual([
      { item: items[8], canonical: expect.objectContaining({ node: 'n1', endHash: hashOf(9000) }), found: [expect.objectContaining({ node: 'n3', endHash: 'c'.repeat(64) })] },
    ]);
    const [n1, n2] = s.nodes;
    expect(n1).toMatchObject({ node: 'n1', state: 'working', headBlock: 1400, blocksPerSecond: 50, heartbeatAgeMs: 0, progressFrom: 'store', peerId: '12D3KooWn1' });
    expect(n1!.items).toEqual([{ item: items[1], epoch: 3, headBlock: 1400, blocksPerSecond: 50 }]);
    expect(n2).toMatchObject({ node: 'n2', state: 'dead', recordState: 'working', heartbeatAgeMs: 20_000, blocksPerSecond: 0 });
    expect(s.continuity).toEqual({ checked: 2, breaks: [] }); // 4-5 and 5-6 (7 has no result)
    expect(s.problems).toEqual([]);
  });

  it('knows every item state from the listings alone; hashes follow when the result bodies are read', async () => {
    for (const item of items.slice(0, 4)) await run.done(item);
    await run.lease(items[4]!, { state: 'released' });
    const reader = new RunReader({ store, clock, run: 'r1' });
    const now = { now: { monotonic: 0, wall: 0 } };
    store.resetCounters();
    let s = computeRunStatus(await reader.refreshListings(), now);
    expect(s.items).toMatchObject({ done: 4, released: 1, pending: 4 });
    expect(s.verdicts).toEqual({ match: 0, mismatch: 0, unverified: 0, conflict: 0, unread: 4 });
    expect(s.complete).toBe(false);
    // The manifest and the released lease; no result body, no lease of a done item.
    expect(store.counters.get).toBe(2);
    s = computeRunStatus(await reader.readResults(), now);
    expect(s.verdicts).toMatchObject({ unverified: 4, unread: 0 });
    expect(s.complete).toBe(true);
  });

  it('finds a chain-continuity break where an end hash differs from the next start hash', async () => {
    await run.done(items[0]!);
    await run.done(items[1]!, { endHash: 'ab'.repeat(32) });
    await run.done(items[2]!);
    await run.done(items[4]!);
    const s = await statusNow();
    expect(s.continuity.checked).toBe(2);
    expect(s.continuity.breaks).toEqual([{ block: 2000, endItem: items[1], endHash: 'ab'.repeat(32), startItem: items[2], startHash: hashOf(2000) }]);
  });

  it('judges a one-shot read by the store clock: stale only past stale-after (or TTL) plus the 1 s margin', async () => {
    await run.node('n1', { staleAfterMs: 15_000 });
    await run.lease(items[0]!, { holder: 'n1', ttlMs: 15_000 });
    await clock.advance(15_900);
    const before = await statusNow();
    expect([before.nodes[0]!.state, before.items.working]).toEqual(['working', 1]);
    await clock.advance(200);
    const s = await statusNow();
    expect(s.nodes[0]).toMatchObject({ state: 'dead', heartbeatAgeMs: 16_100 });
    expect(s.items.expired).toBe(1);
  });

  it('a long-running reader also uses its own monotonic clock: an unchanged ETag goes stale even if the store clock stands still', async () => {
    const storeClock = new ManualClock();
    store = createMemoryStore({ clock: storeClock });
    run = new RunFixture(store, 'r1');
    await run.publish({ count: 2 });
    await run.node('n1', { staleAfterMs: 10_000 });
    const reader = new RunReader({ store, clock, run: 'r1' });
    const at = () => ({ now: { monotonic: clock.monotonic(), wall: clock.now() } });
    expect(computeRunStatus(await reader.refresh(), at()).nodes[0]!.state).toBe('working');
    await clock.advance(10_001);
    // The store's clock did not move, so its stamps say the record is new; our clock says otherwise.
    const s = computeRunStatus(await reader.refresh(), at());
    expect(s.nodes[0]).toMatchObject({ state: 'dead', heartbeatAgeMs: 10_001 });
    // A heartbeat (new ETag) makes it live again.
    await run.node('n1', { staleAfterMs: 10_000, seq: 2 });
    expect(computeRunStatus(await reader.refresh(), at()).nodes[0]!.state).toBe('working');
  });

  it('a stopped node is stopped, not dead, and its leftover held lease is judged by the lease age', async () => {
    await run.node('n1', { state: 'stopped', reason: 'signal SIGTERM' });
    await run.lease(items[0]!, { holder: 'n1', ttlMs: 30_000 });
    await clock.advance(20_000);
    let s = await statusNow();
    expect(s.nodes[0]).toMatchObject({ state: 'stopped', reason: 'signal SIGTERM', items: [] });
    expect(s.items.working).toBe(1);
    await clock.advance(12_000);
    s = await statusNow();
    expect(s.items.expired).toBe(1);
  });

  it('takes fresher progress from gossip for live nodes, and never revives a dead one', async () => {
    await run.node('n1', { items: [{ item: items[0]!, epoch: 1, startedAt: 'x', headBlock: 100, blocksPerSecond: 10 }] });
    await run.lease(items[0]!, { holder: 'n1' });
    const peers: PeerState[] = [{ node: 'n1', state: 'working', items: [{ item: items[0]!, headBlock: 900, blocksPerSecond: 250 }], heardAt: clock.monotonic() }];
    let s = await statusNow(peers);
    expect(s.nodes[0]).toMatchObject({ headBlock: 900, blocksPerSecond: 250, progressFrom: 'gossip' });
    expect(s.progress).toMatchObject({ blocksDone: 900, blocksPerSecond: 250, etaSeconds: Math.round(8100 / 250) });
    await clock.advance(16_500);
    s = await statusNow([{ ...peers[0]!, heardAt: clock.monotonic() }]);
    expect(s.nodes[0]).toMatchObject({ state: 'dead', blocksPerSecond: 0, progressFrom: 'store' });
    expect(s.progress.etaSeconds).toBeNull();
  });

  it('reports corrupt and foreign objects and keeps going', async () => {
    await run.raw(run.keys.lease(items[0]!), '{ not json');
    await run.raw(`${run.keys.leasesPrefix}notes.txt`, 'hello');
    await run.raw(`${run.keys.resultsPrefix}${items[1]}.json`, JSON.stringify({ schema: 'replay/result/v1', item: items[1] }));
    await run.result(items[2]!, { run: 'other-run' });
    await run.raw(run.keys.node('n9'), JSON.stringify({ schema: 'replay/node/v1', node: 'n9', state: 'flying' }));
    await run.raw(run.keys.failure(items[3]!, 'not-a-ulid'), '{}');
    await run.done(items[4]!);
    const s = await statusNow();
    expect(s.problems.map((p) => p.key)).toEqual([
      `runs/r1/failures/${items[3]}/not-a-ulid.json`,
      run.keys.lease(items[0]!),
      'runs/r1/leases/notes.txt',
      run.keys.node('n9'),
      run.keys.result(items[1]!),
      run.keys.result(items[2]!),
    ]);
    expect(s.problems.find((p) => p.key === run.keys.result(items[2]!))!.problem).toMatch(/names run "other-run", not r1/);
    expect(s.problems.find((p) => p.key === run.keys.node('n9'))!.problem).toMatch(/field "state"/);
    // The corrupt lease is someone's (a fresh one): working; the run still counts its good result.
    expect(s.items).toMatchObject({ working: 1, done: 1, pending: 7 });
    expect(s.nodes).toEqual([]);
  });

  it('without a manifest the status says so instead of failing', async () => {
    const s = computeRunStatus(await new RunReader({ store, clock, run: 'nope' }).refresh(), { now: { monotonic: 0, wall: 0 } });
    expect(s).toMatchObject({ complete: false, manifest: null, items: { total: 0 } });
    expect(s.problems).toEqual([{ key: 'runs/nope/manifest.json', problem: expect.stringMatching(/no manifest/) }]);
  });

  describe('lease states are the leases as the store has them, never guessed from the holder\'s record', () => {
    const at = () => ({ now: { monotonic: clock.monotonic(), wall: clock.now() } });

    it('a held lease renewed recently is working although its holder\'s record went stale (record writes failing in a brownout)', async () => {
      await run.node('n1', { staleAfterMs: 15_000, items: [{ item: items[0]!, epoch: 1, startedAt: 'x' }] });
      await run.lease(items[0]!, { holder: 'n1', ttlMs: 60_000 });
      const reader = new RunReader({ store, clock, run: 'r1' });
      await reader.refresh();
      // 40 s without a record write, while the renewals (every ttl/3) land.
      for (let i = 0; i < 2; i++) {
        await clock.advance(20_000);
        await run.lease(items[0]!, { holder: 'n1', ttlMs: 60_000 });
      }
      for (const s of [await statusNow(), computeRunStatus(await reader.refresh(), at())]) {
        expect(s.items).toMatchObject({ working: 1, expired: 0, unknown: 0 });
        // The node list still says what its record says: the holder looks dead.
        expect(s.nodes[0]).toMatchObject({ node: 'n1', state: 'dead' });
      }
    });

    it('a held lease not renewed for longer than its TTL is expired although its holder\'s record is live (its keeper gave it up)', async () => {
      await run.node('n1', { staleAfterMs: 15_000 });
      await run.lease(items[0]!, { holder: 'n1', ttlMs: 10_000 });
      const reader = new RunReader({ store, clock, run: 'r1' });
      await reader.refresh();
      for (let seq = 2; seq <= 4; seq++) {
        await clock.advance(4_000);
        await run.node('n1', { staleAfterMs: 15_000, seq });
      }
      // 12 s: past the TTL plus the 1 s margin by the store's clock, and unchanged for 12 s on the reader's.
      for (const view of [computeRunView(await new RunReader({ store, clock, run: 'r1' }).refresh(), at()), computeRunView(await reader.refresh(), at())]) {
        expect(view.status.items).toMatchObject({ working: 0, expired: 1, unknown: 0 });
        expect(view.cells[0]).toBe('x');
        expect(view.status.nodes[0]).toMatchObject({ node: 'n1', state: 'working' });
      }
    });

    it('a lease listed with a new ETag is not shown with an older read\'s state: held, now released, is not working', async () => {
      await run.node('n1', { staleAfterMs: 600_000 });
      await run.lease(items[0]!, { holder: 'n1' });
      const reader = new RunReader({ store, clock, run: 'r1' });
      expect(computeRunStatus(await reader.refresh(), at()).items.working).toBe(1);
      await run.lease(items[0]!, { holder: 'n1', state: 'released', reason: 'stopping' });
      // A brownout: listings answer, lease GETs fail.
      const get = store.get.bind(store);
      let failing = true;
      store.get = async (key, options) => {
        if (failing && key.includes('/leases/')) throw Object.assign(new Error('503 SlowDown'), { name: 'Unavailable' });
        return get(key, options);
      };
      await expect(reader.refresh()).rejects.toThrow('503');
      let view = computeRunView(reader.state(), at());
      expect(view.status.items).toMatchObject({ working: 0, released: 0, unknown: 1 });
      expect([view.cells[0], view.status.complete]).toEqual(['?', false]);
      // The next look reads just that lease (one GET) and shows what the store holds.
      failing = false;
      store.resetCounters();
      view = computeRunView(await reader.refreshLeases(clock.monotonic()), at());
      expect(store.counters).toMatchObject({ get: 1, list: 0 });
      expect(view.status.items).toMatchObject({ released: 1, unknown: 0 });
      expect(view.cells[0]).toBe('r');
      // The next full refresh has nothing left to read and is complete again.
      store.resetCounters();
      expect(computeRunStatus(await reader.refresh(), at()).complete).toBe(true);
      expect(store.counters.get).toBe(0);
    });

    it('a long-running reader does not judge a held lease from an old listing: unknown until it looks again', async () => {
      await run.lease(items[0]!, { holder: 'n1', ttlMs: 10_000 });
      await run.lease(items[1]!, { holder: 'n1', ttlMs: 10_000 });
      const reader = new RunReader({ store, clock, run: 'r1' });
      await reader.refresh();
      await clock.advance(5_000);
      await run.lease(items[0]!, { holder: 'n1', ttlMs: 10_000 }); // renewed; the reader does not list
      await clock.advance(4_000);
      expect(computeRunStatus(reader.state(), at()).items).toMatchObject({ working: 2, unknown: 0 });
      await clock.advance(3_000);
      // 12 s: the versions it last saw are past TTL + 1 s by the store's clock, but one was renewed since.
      let view = computeRunView(reader.state(), at());
      expect(view.status.items).toMatchObject({ working: 0, expired: 0, unknown: 2 });
      expect(view.cells.slice(0, 2)).toBe('??');
      store.resetCounters();
      view = computeRunView(await reader.refreshLeases(clock.monotonic()), at());
      // One conditional GET each (the unchanged one answers 304), no listing.
      expect(store.counters).toMatchObject({ get: 2, list: 0 });
      expect(view.cells.slice(0, 2)).toBe('wx');
      // Expired when last seen stays expired (until a new version shows); the working one needs a new look again.
      await clock.advance(60_000);
      expect(computeRunView(reader.state(), at()).cells.slice(0, 2)).toBe('?x');
    });
  });

  it('lists at most listLimit entries, with complete counts', async () => {
    for (const item of items.slice(0, 5)) await run.lease(item, { state: 'failed' });
    const reader = new RunReader({ store, clock, run: 'r1' });
    const s = computeRunStatus(await reader.refresh(), { now: { monotonic: 0, wall: 0 }, listLimit: 2 });
    expect([s.items.failed, s.failed.length]).toEqual([5, 2]);
  });
});
