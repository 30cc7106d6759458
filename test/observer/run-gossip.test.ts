import { describe, expect, it } from 'vitest';
import type { Gossip, ReceivedMessage } from '../../src/gossip/gossip.js';
import { zeroCounters } from '../../src/gossip/gossip.js';
import type { GossipOptions } from '../../src/gossip/gossip-options.js';
import type { MemberRecord } from '../../src/gossip/membership.js';
import { LiveRun } from '../../src/observer/live-run.js';
import { decodeObserverRecord } from '../../src/records/observer-record.js';
import { attachGossip } from '../../src/observer/run-gossip.js';
import { computeRunStatus, RunReader } from '../../src/status/index.js';
import { isNotModified } from '../../src/store/store.js';
import { createMemoryStore } from '../../src/store/memory.js';
import { ManualClock } from '../../src/time/manual-clock.js';
import { seededIds } from '../../src/util/ids.js';
import { silentLogger } from '../../src/util/logger.js';
import { RunFixture } from '../status/support/run-fixture.js';

/** A stand-in for the libp2p gossip node: records what the observer asks of it and lets the test deliver messages. */
class FakeGossip implements Gossip {
  readonly peerId = '12D3KooWobserver';
  members: MemberRecord[] = [];
  started = 0;
  stopped = 0;
  private handlers = new Set<(m: ReceivedMessage) => void>();
  constructor(readonly options: GossipOptions) {}
  async start() { this.started += 1; }
  async stop() { this.stopped += 1; }
  addresses() { return ['/ip4/127.0.0.1/tcp/4555/p2p/12D3KooWobserver']; }
  setMembers(records: readonly MemberRecord[]) { this.members = [...records]; }
  publishProgress() {}
  publishEvent() {}
  onMessage(handler: (m: ReceivedMessage) => void) {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }
  counters() { return zeroCounters(); }
  deliver(message: ReceivedMessage) { for (const h of this.handlers) h(message); }
}

describe('observer gossip and presence', () => {
  it('listens to the live nodes, feeds what it hears into the view, and keeps a presence record while it runs', async () => {
    const clock = new ManualClock();
    const store = createMemoryStore({ clock });
    const run = new RunFixture(store, 'r1');
    await run.publish({ count: 4 });
    await run.node('n2', { staleAfterMs: 10_000 });
    await clock.advance(12_000);
    await run.node('n1', { staleAfterMs: 10_000, items: [{ item: run.itemIds()[0]!, epoch: 1, startedAt: 'x' }] });
    await run.lease(run.itemIds()[0]!, { holder: 'n1' });

    const live = new LiveRun({ store, clock, run: 'r1', logger: silentLogger, observer: 'obs-1', resyncMs: 60_000, nodesMs: 5_000, throttleMs: 10 });
    live.start();
    await live.loaded();
    let fake: FakeGossip | undefined;
    const attached = await attachGossip(live, {
      store, clock, ids: seededIds(1), logger: silentLogger, observer: 'obs-1', dataDir: '/tmp/observer-data', gossip: { listen: ['/ip4/127.0.0.1/tcp/0'] },
      heartbeatMs: 5_000, staleAfterMs: 15_000, host: 'h', version: '0.1.0',
      createGossip: async (options) => (fake = new FakeGossip(options)),
    });
    expect(fake!.options).toMatchObject({ run: 'r1', node: 'obs-1', dataDir: '/tmp/observer-data/r1', listen: ['/ip4/127.0.0.1/tcp/0'] });
    expect(fake!.started).toBe(1);
    // Members are the nodes' records; the dead one is marked stale (gossip ignores it).
    expect(fake!.members.map((m) => [m.node, m.stale])).toEqual([['n1', false], ['n2', true]]);

    await clock.advance(0);
    const key = run.keys.observer('obs-1');
    const first = await store.get(key);
    if (isNotModified(first)) throw new Error('unexpected 304');
    expect(decodeObserverRecord(key, first.body)).toMatchObject({ observer: 'obs-1', peerId: '12D3KooWobserver', seq: 1, staleAfterMs: 15_000, addrs: fake!.addresses() });
    await clock.advance(5_000);
    const second = await store.get(key);
    expect(isNotModified(second) ? -1 : decodeObserverRecord(key, second.body).seq).toBe(2);
    // The status shows the observer as live.
    const status = computeRunStatus(await new RunReader({ store, clock, run: 'r1' }).refresh(), { now: { monotonic: clock.monotonic(), wall: clock.now() } });
    expect(status.observers).toEqual([{ observer: 'obs-1', peerId: '12D3KooWobserver', live: true }]);

    // Progress heard on gossip shows at once.
    fake!.deliver({
      from: '12D3KooWn1',
      message: { schema: 'replay/gossip/v1', run: 'r1', node: 'n1', id: '01J0000000000000000000000B', sentAt: 0, type: 'progress', state: 'working', items: [{ item: run.itemIds()[0]!, headBlock: 700, blocksPerSecond: 70 }] },
    });
    await clock.advance(20);
    expect(live.current()!.status.nodes[0]).toMatchObject({ node: 'n1', headBlock: 700, blocksPerSecond: 70, progressFrom: 'gossip' });

    await attached.stop();
    await attached.stop();
    expect(fake!.stopped).toBe(1);
    await expect(store.get(key)).rejects.toThrow(/not found/);
    await live.stop();
  });
});
