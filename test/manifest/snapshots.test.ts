import { describe, expect, it } from 'vitest';
import { listSnapshots, SnapshotIndex, snapshotBlock } from '../../src/manifest/snapshots.js';
import { createMemoryStore } from '../../src/store/memory.js';
import { overwrite } from '../../src/store/store.js';
import { ManualClock } from '../../src/time/manual-clock.js';

describe('snapshot keys: the block number is the trailing number of the name', () => {
  it('reads ENF names, zero-padded or not, at any depth under snapshots/', () => {
    expect(snapshotBlock('snapshots/snapshot-2018-06-10-13-eos-v6-0000015819.bin.zst')).toBe(15819);
    expect(snapshotBlock('snapshots/snapshot-2018-06-18-20-eos-v6-1415312.bin.zst')).toBe(1415312);
    expect(snapshotBlock('snapshots/snapshot-2018-06-10-01-eos-v6-0000000000.bin.zst')).toBe(0);
    expect(snapshotBlock('snapshots/mainnet/v6/snapshot-0344317349.bin')).toBe(344317349);
    expect(snapshotBlock('snapshots/0100000000.bin.zst')).toBe(100000000);
    expect(snapshotBlock('snapshots/snapshot-7')).toBe(7);
  });
  it('skips names that do not end in a block number', () => {
    expect(snapshotBlock('snapshots/genesis.json')).toBeUndefined();
    expect(snapshotBlock('snapshots/snapshot-latest.bin.zst')).toBeUndefined();
    expect(snapshotBlock('snapshots/snapshot-v6.bin')).toBeUndefined(); // "v6": digits not after a dash
    expect(snapshotBlock('snapshots/12345/README')).toBeUndefined(); // a directory name does not count
    expect(snapshotBlock('snapshots/snapshot-10000000000.bin')).toBeUndefined(); // beyond 10 digits of blocks
  });
});

describe('SnapshotIndex: latest at or below a block', () => {
  const index = new SnapshotIndex([
    'snapshots/genesis.json',
    'snapshots/s-0000000500.bin.zst',
    'snapshots/s-0000000100.bin.zst',
    'snapshots/s-0000001000.bin.zst',
  ]);
  it('picks the snapshot at the block, or the latest below it, or none (genesis)', () => {
    expect(index.size).toBe(3);
    expect(index.latestAtOrBelow(500)?.key).toBe('snapshots/s-0000000500.bin.zst');
    expect(index.latestAtOrBelow(999)?.key).toBe('snapshots/s-0000000500.bin.zst');
    expect(index.latestAtOrBelow(5000)?.key).toBe('snapshots/s-0000001000.bin.zst');
    expect(index.latestAtOrBelow(100)?.key).toBe('snapshots/s-0000000100.bin.zst');
    expect(index.latestAtOrBelow(99)).toBeUndefined();
  });
  it('skips records and .sha256 files, whose names carry the block of their snapshot', () => {
    const keys = ['snapshots/a-0000000100.json', 'snapshots/a-0000000200.bin.zst.sha256', 'snapshots/b-0000000200.bin', 'snapshots/b-0000000200.json'];
    expect(new SnapshotIndex(keys).all()).toEqual([{ key: 'snapshots/b-0000000200.bin', block: 200 }]);
  });
  it('of two keys naming one block, takes the first in byte order whatever the input order', () => {
    const keys = ['snapshots/b-100.bin', 'snapshots/a-0000000100.bin.zst'];
    expect(new SnapshotIndex(keys).latestAtOrBelow(100)?.key).toBe('snapshots/a-0000000100.bin.zst');
    expect(new SnapshotIndex(keys.reverse()).latestAtOrBelow(100)?.key).toBe('snapshots/a-0000000100.bin.zst');
  });
});

describe('listSnapshots', () => {
  it('indexes every page of snapshots/ and nothing outside it', async () => {
    const store = createMemoryStore({ clock: new ManualClock(0) });
    for (let block = 0; block < 2500; block += 1) await store.put(`snapshots/s-${String(block * 1000).padStart(10, '0')}.bin`, 'x', overwrite);
    await store.put('snapshots/genesis.json', '{}', overwrite);
    await store.put('artifacts/s-0999999999.bin', 'x', overwrite);
    const index = await listSnapshots(store);
    expect(index.size).toBe(2500);
    expect(index.latestAtOrBelow(10 ** 9)?.key).toBe('snapshots/s-0002499000.bin');
    expect(index.latestAtOrBelow(1_234_567)?.key).toBe('snapshots/s-0001234000.bin');
  });
});
