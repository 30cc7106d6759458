import { describe, expect, it } from 'vitest';
import { itemId, runKeys } from '../../../src/layout/keys.js';
import type { ConflictRecord } from '../../../src/records/conflict-record.js';
import type { FailureRecord } from '../../../src/records/failure-record.js';
import type { NodeRecord } from '../../../src/records/node-record.js';
import { simIntegrityHash } from '../../../src/runner/sim-chain.js';
import { RunReader } from '../../../src/status/index.js';
import type { Store } from '../../../src/store/store.js';
import { systemClock } from '../../../src/time/system-clock.js';
import { until } from '../../support/until.js';
import { readDigestEntries, useCluster, keysUnder, publishRun, readJson, readLeases, readResults, type StoreTarget } from '../support/cluster-world.js';
import { wallMonotonic } from '../../support/wall-clock.js';

/**
 * The lease guarantees with real processes of the real CLI, real signals and
 * a real shared store (design §3, issue 4). Gossip is off: correctness must
 * not depend on it.
 */
const TTL = 3_000;
const SIM = ['--runner', 'sim', '--no-gossip', '--sim-step-ms', '50'];
const FAST = [...SIM, '--sim-speed', '1000'];
const id = (i: number, span = 100): string => itemId({ start: i * span, end: (i + 1) * span });

export function clusterTests(name: string, makeTarget: () => Promise<StoreTarget>): void {
  describe(`replay nodes on ${name}`, () => {
    const fx = useCluster(makeTarget, 'cluster');

    it('4 nodes, 40 items: one result each, chained hashes; a SIGKILLed node\'s item is taken over and finished', async () => {
      await publishRun(fx.target.store, { run: fx.run, items: 40, ttlMs: TTL });
      // The victim hangs on its first item, so it is surely mid-item when killed.
      const victim = fx.cluster.join('victim', [...FAST, '--sim-faults', JSON.stringify({ hang: { node: 'victim' } })]);
      const claim = await victim.claimed();
      const others = ['n1', 'n2', 'n3'].map((node) => fx.cluster.join(node, [...FAST, '--exit-when-done']));
      await others[0]!.claimed();
      victim.signal('SIGKILL');
      const exits = await Promise.all(others.map((o) => o.exited));
      expect(exits.map((e) => e.code)).toEqual([0, 0, 0]);

      const results = await readResults(fx.target.store, fx.run);
      expect([...results.keys()].sort()).toEqual(Array.from({ length: 40 }, (_, i) => id(i)));
      for (const [item, result] of results) {
        expect(result.item).toBe(item);
        expect(result.endHash).toBe(simIntegrityHash('sim', result.end));
        expect(result.startHash).toBe(simIntegrityHash('sim', result.start));
      }
      for (let i = 0; i + 1 < 40; i++) expect(results.get(id(i))!.endHash).toBe(results.get(id(i + 1))!.startHash);
      // The writers' digests index every result exactly once, and say what the result says.
      const digests = await readDigestEntries(fx.target.store, fx.run);
      expect([...digests.keys()].sort()).toEqual([...results.keys()].sort());
      for (const [item, entry] of digests) {
        const { node, epoch, startHash, endHash, headBlockId, finishedAt, verdict } = results.get(item)!;
        expect(entry).toEqual({ item, node, epoch, startHash, endHash, headBlockId, finishedAt, verdict });
      }
      // So a reader (status, the observer) gets every hash from the digests, without one GET per result.
      const resultGets: string[] = [];
      const counted = { list: fx.target.store.list.bind(fx.target.store), get: (key: string, options?: Parameters<Store['get']>[1]) => {
        if (key.includes('/results/')) resultGets.push(key);
        return fx.target.store.get(key, options);
      } };
      const state = await new RunReader({ store: counted, clock: systemClock, run: fx.run }).refresh();
      expect(state.complete).toBe(true);
      expect(resultGets).toEqual([]);
      for (const [item, result] of results) expect(state.results.get(item)?.value).toMatchObject({ node: result.node, endHash: result.endHash, startHash: result.startHash });

      const taken = claim.item as string;
      const leases = await readLeases(fx.target.store, fx.run);
      expect(leases.get(taken)).toMatchObject({ state: 'done' });
      expect(leases.get(taken)!.epoch).toBeGreaterThanOrEqual(2);
      expect(leases.get(taken)!.failedBy[0]).toBe('victim');
      expect(results.get(taken)!.node).not.toBe('victim');
      expect([...leases.values()].every((l) => l.state === 'done')).toBe(true);
      const failures = await keysUnder(fx.target.store, runKeys(fx.run).failuresOf(taken));
      expect(failures).toHaveLength(1);
      expect(await readJson<FailureRecord>(fx.target.store, failures[0]!)).toMatchObject({ node: 'victim', reason: 'lease-expired', final: false });
      expect(await keysUnder(fx.target.store, runKeys(fx.run).conflictsPrefix)).toEqual([]);
    });

    it('a node frozen (SIGSTOP) past its TTL, then resumed, stops its stale work and overwrites nothing', async () => {
      await publishRun(fx.target.store, { run: fx.run, items: 6, ttlMs: TTL });
      const frozen = fx.cluster.join('frozen', [...SIM, '--sim-speed', '20', '--exit-when-done']);
      const claim = await frozen.claimed();
      frozen.signal('SIGSTOP');
      const other = fx.cluster.join('other', [...FAST, '--exit-when-done']);
      expect((await other.exited).code).toBe(0);
      const before = await readResults(fx.target.store, fx.run);
      expect(before.size).toBe(6);
      expect(before.get(claim.item as string)!.node).toBe('other');

      frozen.signal('SIGCONT');
      const exit = await frozen.exited;
      expect(exit.code).toBe(0);
      // It noticed the loss (or, had its replay just finished, could only confirm the canonical result).
      expect(frozen.logs.some((l) => /^stopped work on|lease .* lost|result confirmed/.test(l.msg))).toBe(true);
      const after = await readResults(fx.target.store, fx.run);
      expect([...after.values()].map((r) => r.nonce)).toEqual([...before.values()].map((r) => r.nonce));
      expect(await keysUnder(fx.target.store, runKeys(fx.run).conflictsPrefix)).toEqual([]);
      expect((await readLeases(fx.target.store, fx.run)).get(claim.item as string)).toMatchObject({ holder: 'other', epoch: 2, state: 'done' });
    });

    it('wall clocks 10 minutes off either way: no live lease stolen, an expired one not left stuck', async () => {
      // A longer TTL here: an expiry caused by a loaded machine would look like a stolen lease.
      const ttlMs = 6_000;
      await publishRun(fx.target.store, { run: fx.run, items: 30, ttlMs });
      const ahead = fx.cluster.join('ahead', [...FAST, '--sim-faults', JSON.stringify({ hang: { node: 'ahead' } })], { REPLAY_TEST_CLOCK_SKEW_MS: String(10 * 60_000) });
      const claim = await ahead.claimed();
      const behind = fx.cluster.join('behind', [...FAST, '--exit-when-done'], { REPLAY_TEST_CLOCK_SKEW_MS: String(-10 * 60_000) });
      const plain = fx.cluster.join('plain', [...FAST, '--exit-when-done']);
      await behind.claimed();
      ahead.signal('SIGKILL');
      const killedAt = wallMonotonic();
      const taken = claim.item as string;
      await until(() => readLeases(fx.target.store, fx.run).then((l) => l.get(taken)?.epoch ?? 0), (epoch) => epoch >= 2, 'take-over of the dead node\'s lease', 45_000);
      const failoverMs = wallMonotonic() - killedAt;
      expect((await behind.exited).code).toBe(0);
      expect((await plain.exited).code).toBe(0);

      const leases = await readLeases(fx.target.store, fx.run);
      expect(leases.size).toBe(30);
      for (const [item, lease] of leases) {
        expect(lease.state).toBe('done');
        // Only the dead node's item changed hands: nobody took a live lease.
        expect(lease.epoch, item).toBe(item === taken ? 2 : 1);
      }
      expect((await readResults(fx.target.store, fx.run)).size).toBe(30);
      // Not stuck: taken over within a few TTLs (bench:lease measures the failover time itself).
      expect(failoverMs).toBeLessThan(3 * ttlMs + 5_000);
    });

    it('replicas: each replica of an interval by a different node; a wrong hash is recorded as a conflict', async () => {
      await publishRun(fx.target.store, { run: fx.run, items: 6, ttlMs: TTL, replicas: 2 });
      const liar = fx.cluster.join('liar', [...FAST, '--exit-when-done', '--sim-faults', JSON.stringify({ wrongHash: { node: 'liar' } })]);
      const honest = ['h1', 'h2'].map((node) => fx.cluster.join(node, [...FAST, '--exit-when-done']));
      expect((await Promise.all([liar, ...honest].map((p) => p.exited))).map((e) => e.code)).toEqual([0, 0, 0]);

      const results = await readResults(fx.target.store, fx.run);
      expect(results.size).toBe(12);
      const conflicts = await keysUnder(fx.target.store, runKeys(fx.run).conflictsPrefix);
      let liarIntervals = 0;
      for (let i = 0; i < 6; i++) {
        const [r1, r2] = [1, 2].map((replica) => results.get(itemId({ start: i * 100, end: (i + 1) * 100, replica }))!);
        expect(r1!.node).not.toBe(r2!.node);
        if (r1!.node !== 'liar' && r2!.node !== 'liar') continue;
        liarIntervals++;
        const mine = conflicts.filter((k) => k.includes(`/${id(i)}.r`));
        expect(mine.length, `conflict for interval ${i}`).toBeGreaterThanOrEqual(1);
        const record = (await readJson<ConflictRecord>(fx.target.store, mine[0]!))!;
        expect(record.found.endHash).not.toBe(record.canonical.endHash);
        expect([record.found.node, record.canonical.node]).toContain('liar');
      }
      expect(liarIntervals).toBeGreaterThan(0);
      expect(conflicts.length).toBeLessThanOrEqual(2 * liarIntervals);
    });

    it('SIGTERM releases the leases at once: another node takes them over long before the TTL', async () => {
      const ttlMs = 20_000;
      await publishRun(fx.target.store, { run: fx.run, items: 2, ttlMs, span: 1000 });
      const leaver = fx.cluster.join('leaver', [...SIM, '--sim-speed', '20', '--concurrency', '2']);
      await until(() => leaver.logs.filter((l) => l.msg.startsWith('claimed ')).length, (c) => c === 2, 'two claims');
      const taker = fx.cluster.join('taker', [...FAST, '--exit-when-done']);
      await taker.waitForLog((l) => l.msg === 'node starting', 'taker start');
      leaver.signal('SIGTERM');
      expect((await leaver.exited).code).toBe(0);
      const leftAt = wallMonotonic();
      expect(await readJson<NodeRecord>(fx.target.store, runKeys(fx.run).node('leaver'))).toMatchObject({ state: 'stopped', items: [] });
      // The released leases are re-claimed (CAS on a released lease), not taken over after expiry.
      expect(await taker.claimed()).toMatchObject({ how: 'reclaimed' });
      // Seen through the leaver's stopped record (peer watch, TTL/3) rather than by expiry (TTL + 1 s); slack for a loaded machine.
      expect(wallMonotonic() - leftAt).toBeLessThan(ttlMs * 0.75);
      expect((await taker.exited).code).toBe(0);
      const leases = await readLeases(fx.target.store, fx.run);
      for (const lease of leases.values()) expect(lease).toMatchObject({ state: 'done', holder: 'taker', epoch: 2 });
      expect(await keysUnder(fx.target.store, runKeys(fx.run).failuresPrefix)).toEqual([]);
    });
  });
}

