import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RunnerPhase } from '../../src/runner/runner.js';
import { simBlockId, simIntegrityHash } from '../../src/runner/sim-chain.js';
import { BAD_SNAPSHOT_KINDS, badSnapshot, badSnapshotMessage, CHAIN, createWorld, failureOf, zstdCompress, type World } from './support/nodeos-world.js';

/**
 * The nodeos runner against the fake that follows the real nodeos
 * (docs/runners.md "The nodeos contract"): HTTP closed while the stop hash
 * is computed, silent snapshot loads, fork-db blocks past END, the real
 * refusal messages and exit codes, the chain id.
 */
let world: World;
beforeEach(async () => {
  world = await createWorld();
});
afterEach(async () => {
  await world.cleanup();
});


function starts(log: string): number {
  return log.match(/\[replay-node\] starting /g)?.length ?? 0;
}

describe('nodeos runner on the real contract', () => {
  it('a 20 s silent snapshot load and a 25 s stop hash under a 12 s stall setting: right hashes, no read-only restart', async () => {
    // The figures, on two items at once: nodeos is silent and its HTTP port closed for longer than the stall timeout, twice.
    const s100 = await world.putSnapshot(100);
    const s600 = await world.putSnapshot(600);
    const runner = world.runner({
      stallTimeoutMs: 12_000, progressIntervalMs: 500,
      env: { FAKE_NODEOS_LOAD_MS: '20000', FAKE_NODEOS_STOP_HASH_MS: '25000', FAKE_NODEOS_BPS: '500' },
    });
    const items = [world.item(100, 600, s100), world.item(600, 1100, s600)];
    const phases: RunnerPhase[][] = [[], []];
    const runs = await Promise.all(items.map((item, i) => world.run(runner, item, undefined, (p) => {
      if (p.phase && phases[i]!.at(-1) !== p.phase) phases[i]!.push(p.phase);
    })));
    for (const [i, { result }] of runs.entries()) {
      const item = items[i]!;
      expect(result.startHash).toBe(simIntegrityHash(CHAIN, item.start));
      expect(result.endHash).toBe(simIntegrityHash(CHAIN, item.end));
      // From the fork database line nodeos writes on exit: the full id, no restart needed.
      expect(result.headBlockId).toBe(simBlockId(CHAIN, item.end));
      expect(phases[i]).toEqual(['fetching', 'loading', 'replaying', 'hashing']);
      expect(result.timings.start).toBeGreaterThanOrEqual(20_000);
      expect(result.timings.hash).toBeGreaterThanOrEqual(25_000);
      const log = await world.itemLog(item);
      expect(starts(log)).toBe(1);
      expect(log).toContain('--truncate-at-block');
    }
  }, 120_000);

  it('a stop hash beyond its own bound fails as hash-timeout; the second quit is ignored, so SIGKILL ends it', async () => {
    const snap = await world.putSnapshot(100);
    const runner = world.runner({ stopHashTimeoutMs: 1_000, killGraceMs: 500, env: { FAKE_NODEOS_STOP_HASH_MS: '60000' } });
    const failure = await failureOf(world.run(runner, world.item(100, 600, snap)));
    expect(failure.reason).toBe('hash-timeout');
    expect(failure.details.signal).toBe('SIGKILL');
  });

  it('a snapshot load beyond its bound fails as load-timeout, not stalled', async () => {
    const snap = await world.putSnapshot(100);
    const runner = world.runner({ loadTimeoutMs: 1_000, stallTimeoutMs: 60_000, env: { FAKE_NODEOS_LOAD_MS: '60000' } });
    const failure = await failureOf(world.run(runner, world.item(100, 600, snap)));
    expect(failure.reason).toBe('load-timeout');
    expect(failure.message).toContain('loading the snapshot');
  });

  it('with peers sending blocks past END, --truncate-at-block keeps the read-only restart at END', async () => {
    const snap = await world.putSnapshot(100);
    const runner = world.runner({
      p2pPeers: ['127.0.0.1:1'],
      env: { FAKE_NODEOS_FORKDB_EXTRA: '3', FAKE_NODEOS_NO_STOP_HASH: '1' },
    });
    const item = world.item(100, 600, snap);
    const { result } = await world.run(runner, item);
    expect(result).toMatchObject({ endHash: simIntegrityHash(CHAIN, 600), headBlock: 600, headBlockId: simBlockId(CHAIN, 600) });
    const log = await world.itemLog(item);
    expect(log).toContain('Removing blocks past truncate-at-block 600 from fork database with head at 603');
    expect(starts(log)).toBe(2);
  });

  for (const kind of BAD_SNAPSHOT_KINDS) {
    it(`a snapshot nodeos refuses (${kind}) is corrupt-snapshot with nodeos's message, and leaves the cache`, async () => {
      const bad = await world.putSnapshot(100, { body: await zstdCompress(badSnapshot(kind)) });
      const failure = await failureOf(world.run(world.runner(), world.item(100, 600, bad)));
      expect(failure.reason).toBe('corrupt-snapshot');
      expect(failure.details.exitCode).toBe(254);
      expect(failure.message).toContain(badSnapshotMessage(kind).slice(0, 40));
      const cached = await readdir(join(world.dataDir, 'cache', 'snapshots'));
      expect(cached.filter((name) => name.endsWith('.bin'))).toEqual([]);
    });
  }

  it('a refusal that is not about the snapshot is nodeos-refused, naming the cause, and keeps the cached snapshot', async () => {
    const snap = await world.putSnapshot(100);
    const runner = world.runner({ extraArgs: ['--no-such-flag'] });
    const failure = await failureOf(world.run(runner, world.item(100, 600, snap)));
    expect(failure.reason).toBe('nodeos-refused');
    expect(failure.message).toContain("Unknown option '--no-such-flag'");
    const cached = await readdir(join(world.dataDir, 'cache', 'snapshots'));
    expect(cached.filter((name) => name.endsWith('.bin'))).toHaveLength(1);
  });

  it('a crash during the replay is crashed, even with a snapshot-like word in the log', async () => {
    const snap = await world.putSnapshot(100);
    const runner = world.runner({ env: { FAKE_NODEOS_CRASH_AT: '300', FAKE_NODEOS_BPS: '500' } });
    const failure = await failureOf(world.run(runner, world.item(100, 600, snap)));
    expect(failure.reason).toBe('crashed');
  });

  it("a chain id other than the manifest's is a failed attempt naming both ids", async () => {
    const snap = await world.putSnapshot(100);
    const runner = world.runner({ env: { FAKE_NODEOS_BPS: '200' } });
    const item = { ...world.item(100, 600, snap), chainId: 'aca376f206b8fc25a6ed44dbdc66547c36c6c33e3a119ffbeaef943642f0e906' };
    const failure = await failureOf(world.run(runner, item));
    expect(failure.reason).toBe('chain-id-mismatch');
    expect(failure.message).toContain(`reports chain id ${CHAIN}, the manifest says aca376f206b8`);
  });
});
