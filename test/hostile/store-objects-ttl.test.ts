import { describe, expect, it } from 'vitest';
import { ExpiryJudge } from '../../src/lease/expiry.js';
import { boundTtl, MAX_TTL_FACTOR } from '../../src/lease/ttl-bound.js';
import { ManualClock } from '../../src/time/manual-clock.js';
import { TTL, WARN, World, leaseBody } from './store-objects-world.js';

/**
 * Issue 19, defect 2: self-declared timeouts were trusted without limit. A
 * held lease of a missing holder with `"ttlMs": 1e400` (JSON.parse gives
 * Infinity) or `1e15` blocked its item forever and `--exit-when-done` never
 * fired; a node record with `staleAfterMs: 1e15` stayed "working". Readers
 * now cap both at 10 x the run's lease TTL (src/lease/ttl-bound.ts) and
 * report the object once.
 */
describe('self-declared timeouts are bounded by the run\'s TTL', () => {
  it('the bound: at most 10 x the run TTL; Infinity and nonsense are reported', () => {
    expect(MAX_TTL_FACTOR).toBe(10);
    expect(boundTtl(5_000, TTL)).toEqual({ ms: 5_000 });
    expect(boundTtl(undefined, TTL)).toEqual({ ms: TTL });
    expect(boundTtl(1e15, TTL)).toEqual({ ms: 10 * TTL, excessive: 1e15 });
    expect(boundTtl(JSON.parse('1e400') as number, TTL)).toEqual({ ms: 10 * TTL, excessive: Infinity });
    expect(boundTtl(-1, TTL)).toEqual({ ms: TTL, excessive: -1 });
  });

  it('the judge takes over an Infinity lease after 10 TTLs, reporting it once', async () => {
    const clock = new ManualClock();
    const warnings: string[] = [];
    const judge = new ExpiryJudge(clock, { fallbackTtlMs: TTL, useStoreClock: false, logger: { warn: (_o: unknown, msg: string) => void warnings.push(msg) } as never });
    const snapshot = {
      item: 'i', key: 'runs/r/leases/i.json', etag: 'e1', lastModified: new Date(0), storeDate: new Date(0), seenAt: 0,
      record: JSON.parse(leaseBody('r', 'i', { ttlMs: 1 }).replace('"ttlMs":1', '"ttlMs":1e400')) as never,
    };
    expect(judge.judge(snapshot)).toMatchObject({ claimable: false, waitMs: 10 * TTL + 1 });
    await clock.advance(10 * TTL + 1);
    expect(judge.judge(snapshot)).toMatchObject({ claimable: true, why: 'observer-clock' });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('runs/r/leases/i.json claims ttlMs Infinity');
  });

  it('held leases of a missing holder claiming 1e400 and 1e15 ms: reported once each, taken over, the run completes', async () => {
    const w = await new World({ items: 4 }).publish();
    const [inf, big] = w.items;
    await w.put(w.keys.lease(inf!), leaseBody(w.run, inf!, { ttlMs: 1 }).replace('"ttlMs":1', '"ttlMs":1e400'));
    await w.put(w.keys.lease(big!), leaseBody(w.run, big!, { ttlMs: 1e15 }));

    const a = w.join('a');
    const took = await w.until(() => a.exit() !== undefined, 30 * TTL);
    expect(a.exit()?.reason).toBe('run complete');
    // Within the bound (10 TTLs) plus the replays and the scheduler's looks.
    expect(took).toBeLessThanOrEqual(10 * TTL + 3 * TTL);
    expect((await w.results()).size).toBe(4);
    for (const item of w.items) expect((await w.lease(item))?.state).toBe('done');
    expect(w.said(`${w.keys.lease(inf!)} claims ttlMs Infinity`, WARN)).toHaveLength(1);
    expect(w.said(`${w.keys.lease(big!)} claims ttlMs 1000000000000000`, WARN)).toHaveLength(1);
    // The take-over blames the missing holder, as for any expired lease.
    expect((await w.lease(inf!))?.failedBy).toEqual(['ghost']);
  });

  it('a node record claiming staleAfterMs 1e15 goes dead after 10 TTLs (status and nodes); --exit-when-done fires', async () => {
    const w = await new World({ items: 2 }).publish();
    const [item] = w.items;
    const ghostKey = w.keys.node('ghost');
    // A "working" record that names an item, and that item's lease held by it.
    await w.put(ghostKey, JSON.stringify({
      schema: 'replay/node/v1', run: w.run, node: 'ghost', state: 'working', items: [{ item, epoch: 1, startedAt: '2026-01-01T00:00:00.000Z' }],
      host: 'h', pid: 1, version: 'v', runner: 'sim', concurrency: 1, startedAt: '2026-01-01T00:00:00.000Z', heartbeatAt: '2026-01-01T00:00:00.000Z',
      heartbeatMs: 1_000, staleAfterMs: 1e15, seq: 1, counts: { done: 0, confirmed: 0, conflicts: 0, failed: 0 },
    }));
    await w.put(w.keys.lease(item!), leaseBody(w.run, item!));
    expect((await w.status()).nodes.find((n) => n.node === 'ghost')).toMatchObject({ state: 'working', staleAfterMs: 10 * TTL });

    const a = w.join('a');
    const took = await w.until(() => a.exit() !== undefined, 30 * TTL);
    expect(a.exit()?.reason).toBe('run complete');
    expect(took).toBeLessThanOrEqual(10 * TTL + 3 * TTL);
    expect((await w.results()).size).toBe(2);
    expect(w.said(`${ghostKey} claims staleAfterMs 1000000000000000`, WARN)).toHaveLength(1);

    const status = await w.status();
    expect(status.nodes.find((n) => n.node === 'ghost')?.state).toBe('dead');
    expect(status.problems).toContainEqual({ key: ghostKey, problem: expect.stringContaining('claims staleAfterMs 1000000000000000') });
    expect(status.items.done).toBe(2);
  });
});
