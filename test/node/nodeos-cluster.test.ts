import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { itemId, runKeys } from '../../src/layout/keys.js';
import { buildManifest } from '../../src/manifest/build-manifest.js';
import { publishManifest } from '../../src/manifest/publish.js';
import { listSnapshots } from '../../src/manifest/snapshots.js';
import type { FailureRecord } from '../../src/records/failure-record.js';
import { simIntegrityHash } from '../../src/runner/sim-chain.js';
import { overwrite } from '../../src/store/store.js';
import { CHAIN, FAKE_NODEOS, fakeSnapshot, zstdCompress } from '../runner/support/nodeos-world.js';
import { describeS3 } from '../support/s3.js';
import { keysUnder, readJson, readResults, s3Target, useCluster } from './support/cluster-world.js';
import { wallDate } from '../support/wall-clock.js';

/**
 * The nodeos runner end to end inside real replay nodes (issue 5): three
 * `replay-node join --runner nodeos` processes on RGW, the fake nodeos
 * replaying from zstd snapshots streamed out of the bucket (genesis for the
 * first interval), with one injected crash. Every end hash must chain into
 * the next interval's start hash.
 */
const ITEMS = 6;
const SPAN = 100;
const id = (i: number): string => itemId({ start: i * SPAN, end: (i + 1) * SPAN });

describeS3('nodeos runner in a cluster on RGW', () => {
  const fx = useCluster(s3Target, 'nodeos');
  let scratch: string;
  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'nodeos-cluster-'));
  });
  afterAll(() => rm(scratch, { recursive: true, force: true }));

  it('three nodes replay six intervals from snapshots in the bucket; hashes chain; a crash is a failure record and a retry', async () => {
    const { store } = fx.target;
    await store.put('snapshots/genesis.json', JSON.stringify({ chain_id: CHAIN, initial_timestamp: '2018-06-08T08:08:08.888' }), overwrite);
    for (let i = 1; i < ITEMS; i++) {
      await store.put(`snapshots/snapshot-${String(i * SPAN).padStart(10, '0')}.bin.zst`, await zstdCompress(fakeSnapshot(i * SPAN)), overwrite);
    }
    const manifest = buildManifest({
      run: fx.run,
      createdAt: wallDate().toISOString(),
      intervals: Array.from({ length: ITEMS }, (_, i) => ({ start: i * SPAN, end: (i + 1) * SPAN })),
      snapshots: await listSnapshots(store),
      chainId: CHAIN,
      defaults: { leaseTtlMs: 10_000, minFreeDiskBytes: 1 },
    });
    await publishManifest(store, manifest);
    expect(manifest.intervals[0]!.snapshot).toBeNull();
    expect(manifest.intervals[3]!.snapshot?.key).toBe('snapshots/snapshot-0000000300.bin.zst');

    // The fake crashes once in the whole cluster at block 250 (the first process to create the once-file).
    // nodeos gets a minimal environment; REPLAY_NODEOS_ENV_<NAME> is how an operator (here: the test) passes it more.
    const env = {
      REPLAY_NODEOS_ENV_FAKE_NODEOS_BPS: '2000', REPLAY_NODEOS_ENV_FAKE_NODEOS_CRASH_AT: '250',
      REPLAY_NODEOS_ENV_FAKE_NODEOS_FAULT_ONCE_FILE: join(scratch, 'crash-once'),
    };
    const nodes = ['x1', 'x2', 'x3'].map((node) => fx.cluster.join(node, [
      '--runner', 'nodeos', '--nodeos-bin', FAKE_NODEOS, '--data-dir', join(scratch, node), '--no-gossip', '--exit-when-done',
    ], env));
    expect((await Promise.all(nodes.map((n) => n.exited))).map((e) => e.code)).toEqual([0, 0, 0]);

    const results = await readResults(store, fx.run);
    expect([...results.keys()].sort()).toEqual(Array.from({ length: ITEMS }, (_, i) => id(i)));
    for (let i = 0; i < ITEMS; i++) {
      const result = results.get(id(i))!;
      expect(result).toMatchObject({ runner: 'nodeos', verdict: 'unverified', headBlock: (i + 1) * SPAN });
      expect(result.endHash).toBe(simIntegrityHash(CHAIN, (i + 1) * SPAN));
      if (i > 0) expect(result.startHash).toBe(results.get(id(i - 1))!.endHash);
    }
    const failures = await keysUnder(store, runKeys(fx.run).failuresOf(id(2)));
    expect(failures).toHaveLength(1);
    const failure = (await readJson<FailureRecord>(store, failures[0]!))!;
    expect(failure).toMatchObject({ reason: 'crashed', final: false });
    expect(failure.logTail.length).toBeGreaterThan(0);
  });
});
