import { afterEach, describe, expect, it } from 'vitest';
import type { LeaseRecord } from '../../src/records/lease-record.js';
import { NodeWorld } from './support/node-world.js';

/**
 * Real ReplayNodes in-process on one manual clock, sharing a memory store,
 * sim runners, gossip off (test/node/support/node-world.ts). Every time
 * here is manual-clock time; nothing depends on the wall clock.
 */
const TTL = 3_000;
/** advance() step: the resolution of every measured time below. */
const STEP = 100;

let world: NodeWorld | undefined;
afterEach(async () => {
  await world?.stopAll();
  world = undefined;
});

/** Advances until `test` holds (checked after every step), failing after `maxMs`. */
async function until(w: NodeWorld, what: string, test: () => Promise<boolean>, maxMs: number): Promise<number> {
  const from = w.now;
  while (!(await test())) {
    if (w.now - from >= maxMs) throw new Error(`until: ${what} not reached within ${maxMs} ms (clock)`);
    await w.advance(STEP, STEP);
  }
  return w.now;
}

interface Sample { t: number; holder: string; epoch: number; state: LeaseRecord['state']; nonce: string; reason?: string; failedBy: string[] }

/** Every distinct version of one lease seen, sampled after each step. */
function sampler(w: NodeWorld, item: string): { samples: Sample[]; sample: () => Promise<void> } {
  const samples: Sample[] = [];
  const sample = async (): Promise<void> => {
    const l = await w.lease(item);
    if (!l || samples.at(-1)?.nonce === l.nonce) return;
    samples.push({ t: w.now, holder: l.holder, epoch: l.epoch, state: l.state, nonce: l.nonce, failedBy: [...l.failedBy], ...(l.reason ? { reason: l.reason } : {}) });
  };
  return { samples, sample };
}

/** Epochs never go down and each epoch has one holder: never two holders at once. */
function expectMonotonic(samples: Sample[]): void {
  const holderOf = new Map<number, string>();
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i]!;
    if (i > 0) expect(s.epoch, `epoch at ${s.t} ms`).toBeGreaterThanOrEqual(samples[i - 1]!.epoch);
    const seen = holderOf.get(s.epoch);
    if (seen !== undefined) expect(s.holder, `holder of epoch ${s.epoch} at ${s.t} ms`).toBe(seen);
    holderOf.set(s.epoch, s.holder);
  }
}

describe('a node world: real replay nodes on one manual clock', () => {
  // Measured: 3 nodes × 12 one-second items, TTL 3 s: 29.5 requests per item in all (354: 90 get,
  // 115 put, 149 list; node records, listings, claims, renewals, results), done at 4.1 s clock. Bound: 2× that.
  it('3 nodes × 12 items: one result per item, every lease done, requests per item bounded', async () => {
    const w = (world = await NodeWorld.create({ items: 12, ttlMs: TTL, nodes: 3, blocksPerItem: 100, blocksPerSecond: 100 }));
    w.start();
    const took = await w.untilDone(60_000);
    // A few more rounds: nothing may be claimed again, no second result written.
    await w.advance(2 * TTL);
    const results = await w.results();
    expect(results.size).toBe(12);
    expect((await w.resultKeys()).length).toBe(12);
    for (const [item, r] of results) {
      expect(r.item).toBe(item);
      expect(['n1', 'n2', 'n3']).toContain(r.node);
    }
    // Work is spread: 12 one-second items over 3 nodes, no node did them all.
    const byNode = new Map<string, number>();
    for (const r of results.values()) byNode.set(r.node, (byNode.get(r.node) ?? 0) + 1);
    expect(Math.max(...byNode.values())).toBeLessThan(12);
    const leases = await w.leases();
    expect(leases.size).toBe(12);
    for (const [item, l] of leases) expect(l.state, item).toBe('done');
    // Sequential work would take 12 s; three nodes in parallel finish in well under that.
    expect(took).toBeLessThan(12_000);
    const perItem = w.requests().total / 12;
    console.info(`node world: 12 items done in ${took} ms clock; ${perItem.toFixed(1)} requests per item`, w.requests());
    expect(perItem).toBeLessThan(60);
  });

  it('failover: a partitioned holder stops in time; the other node takes over only after the lease is a TTL old', async () => {
    // Items of 5 TTLs (15 s). n1 works on one item at a time; n2 has a second slot free for the take-over.
    const w = (world = await NodeWorld.create({
      items: 2, ttlMs: TTL, nodes: 2, blocksPerItem: 1_500, blocksPerSecond: 100,
      settings: (i) => ({ concurrency: i === 0 ? 1 : 2 }),
    }));
    const [a, b] = [w.node('n1'), w.node('n2')];
    w.start('n1');
    let itemA = '';
    await until(w, 'n1 holds a lease', async () => {
      for (const [item, l] of await w.leases()) if (l.holder === 'n1' && l.state === 'held') itemA = item;
      return itemA !== '';
    }, 5 * TTL);
    const itemB = w.items.find((i) => i !== itemA)!;
    w.start('n2');
    await until(w, 'n2 holds the other lease', async () => (await w.lease(itemB))?.holder === 'n2', 5 * TTL);
    // Some renewals by n1 first, so that the partition falls between two of them.
    await w.advance(TTL / 2);

    const { samples, sample } = sampler(w, itemA);
    await sample();
    w.partition('n1');
    const partitionedAt = w.now;
    await until(w, 'n2 takes over', async () => {
      await sample();
      const l = samples.at(-1)!;
      return l.holder === 'n2' && l.epoch === 2;
    }, 5 * TTL);
    // Exact times of the lease writes that landed (the world records each put).
    const history = w.leaseHistory(itemA);
    const takeOver = history.find((h) => h.by === 'n2')!;
    const lastByA = history.filter((h) => h.by === 'n1').at(-1)!;
    expect(takeOver.record).toMatchObject({ holder: 'n2', epoch: 2, state: 'held' });
    expect(lastByA.record).toMatchObject({ holder: 'n1', epoch: 1, state: 'held' });
    const renewEveryMs = TTL / 3; // lease-keeper.ts default
    console.info(`failover: partition at ${partitionedAt} ms, n1's last renewal landed at ${lastByA.t} ms, n2's take-over at ${takeOver.t} ms (+${takeOver.t - partitionedAt} ms after the partition)`);
    expect(lastByA.t).toBeLessThanOrEqual(partitionedAt);
    // Only after the lease stood unchanged for more than a TTL: n2 judges expiry a TTL after it first saw
    // that version, which is at or after it was written (at most one renew period before the partition) ...
    expect(takeOver.t - lastByA.t).toBeGreaterThan(TTL);
    expect(takeOver.t - partitionedAt).toBeGreaterThan(TTL - renewEveryMs);
    // ... and not much later: with a free slot and nothing to claim, n2 rescans leases every idleScanMs
    // (TTL/2, no gossip) and sleeps no longer than the earliest time a known held lease could be judged
    // expired (scheduler.nextCheckAt); its peer watch (every heartbeatMs = TTL/3) calls n1 dead once n1's
    // record is unchanged for staleAfterMs (TTL). Bound: a TTL after n1's last write, plus one idle scan period.
    expect(takeOver.t - lastByA.t).toBeLessThanOrEqual(TTL + b.settings.idleScanMs);
    expect(takeOver.record.failedBy).toContain('n1');

    // n1 stopped its own work before anyone could take over: its keeper gave up at its local deadline (< TTL).
    const stoppedLine = w.lines.find((l) => l.node === 'n1' && l.item === itemA && l.msg.startsWith(`stopped work on ${itemA}`));
    expect(stoppedLine, 'n1 logged stopping its work on the item').toBeDefined();
    expect(stoppedLine!.at).toBeGreaterThan(partitionedAt);
    expect(stoppedLine!.at).toBeLessThan(lastByA.t + TTL);
    expect(stoppedLine!.at).toBeLessThan(takeOver.t);
    expect(a.settings.staleAfterMs).toBe(TTL);

    // The item finishes under n2; n1, still cut off, never writes the lease again.
    await w.untilDone(6 * TTL, STEP, sample);
    await sample();
    expectMonotonic(samples);
    expectMonotonic(w.leaseHistory(itemA).map((h) => ({ t: h.t, holder: h.record.holder, epoch: h.record.epoch, state: h.record.state, nonce: h.record.nonce, failedBy: h.record.failedBy })));
    expect(w.leaseHistory(itemA).filter((h) => h.t >= partitionedAt).every((h) => h.by === 'n2')).toBe(true);
    expect(w.leaseHistory(itemA).at(-1)?.record).toMatchObject({ state: 'done', holder: 'n2', epoch: 2 });
    expect(await w.result(itemA)).toMatchObject({ node: 'n2', epoch: 2 });
    expect((await w.result(itemB))?.node).toBe('n2');
  });

  it('graceful stop releases the lease (`stopping`) and the other node claims it within one idle scan, not a TTL', async () => {
    const w = (world = await NodeWorld.create({ items: 1, ttlMs: TTL, nodes: 2, blocksPerItem: 1_500, blocksPerSecond: 100 }));
    const item = w.items[0]!;
    w.start('n1');
    await until(w, 'n1 holds the lease', async () => (await w.lease(item))?.holder === 'n1', 5 * TTL);
    w.start('n2');
    // n2 finds nothing to claim and settles into its idle rescans.
    await w.advance(TTL);
    expect((await w.lease(item))?.holder).toBe('n1');

    const { samples, sample } = sampler(w, item);
    await sample();
    const stopping = w.node('n1').node.stop('test stop');
    let stopped = false;
    void stopping.then(() => (stopped = true));
    const stopAt = w.now;
    const claimedAt = await until(w, 'n2 claims the released item', async () => {
      await sample();
      const l = samples.at(-1)!;
      return l.holder === 'n2' && l.state === 'held';
    }, 5 * TTL);
    await stopping;
    expect(stopped).toBe(true);
    expect(w.node('n1').exit?.reason).toBe('stopped');

    const history = w.leaseHistory(item);
    const released = history.find((h) => h.record.state === 'released');
    expect(released, `lease writes: ${JSON.stringify(history.map((h) => [h.t, h.by, h.record.state]))}`).toBeDefined();
    expect(released!).toMatchObject({ by: 'n1', record: { holder: 'n1', epoch: 1, reason: 'stopping' } });
    const claim = history.find((h) => h.by === 'n2')!;
    expect(claim.record).toMatchObject({ holder: 'n2', epoch: 2, state: 'held' });
    const idleScanMs = w.node('n2').settings.idleScanMs; // TTL/2 without gossip
    console.info(`graceful stop at ${stopAt} ms: released at ${released!.t} ms, claimed by n2 at ${claim.t} ms`);
    expect(released!.t - stopAt).toBeLessThanOrEqual(STEP);
    // Within one idle rescan of n2, well before the TTL.
    expect(claim.t - released!.t).toBeLessThanOrEqual(idleScanMs);
    expect(claimedAt - stopAt).toBeLessThan(TTL);
    // A released lease is claimed, not taken over: no failure counted against n1.
    const claimed = samples.at(-1)!;
    expect(claimed.epoch).toBe(2);
    expect(claimed.failedBy).not.toContain('n1');
    expectMonotonic(samples);

    await w.untilDone(6 * TTL, STEP, sample);
    expect(await w.result(item)).toMatchObject({ node: 'n2', epoch: 2 });
  });
});
