import { MAX_BLOCK, SNAPSHOTS_PREFIX } from '../layout/keys.js';
import { compareKeys } from '../store/key-order.js';
import { listAll, type Store } from '../store/store.js';

/**
 * Which snapshot an interval or slice starts from. Snapshots are inputs that
 * operators upload under `snapshots/`; their block number is read from the
 * key, so choosing one costs a listing and no downloads.
 *
 * Naming rule: the block number is the run of digits that ends the file
 * name's stem (the name up to its first `.`), after the stem's last `-`, or
 * the whole stem when it is all digits. Any digit count is accepted, since
 * the ENF names are not always zero-padded:
 *
 *   snapshots/snapshot-2018-06-10-13-eos-v6-0000015819.bin.zst -> 15819
 *   snapshots/mainnet/snapshot-2018-06-18-20-eos-v6-1415312.bin.zst -> 1415312
 *   snapshots/0100000000.bin -> 100000000
 *   snapshots/genesis.json -> not a snapshot (skipped)
 *
 * Keys whose name does not follow the rule are skipped, never fatal (foreign
 * files live in buckets), and so are a snapshot's companions, `.json`
 * records and `.sha256` files (snapshot-record.ts), whose names carry the
 * same block. When several keys name the same block, the first
 * in byte order wins, so the choice is deterministic.
 */
export interface SnapshotEntry {
  key: string;
  block: number;
}

const TRAILING_BLOCK = /(?:^|-)(\d+)$/;

/** The block a snapshot key encodes, or undefined when the key does not name one. */
export function snapshotBlock(key: string): number | undefined {
  const name = key.slice(key.lastIndexOf('/') + 1);
  const dot = name.indexOf('.');
  const stem = dot === -1 ? name : name.slice(0, dot);
  const match = TRAILING_BLOCK.exec(stem);
  if (!match) return undefined;
  const block = Number(match[1]);
  return Number.isSafeInteger(block) && block <= MAX_BLOCK ? block : undefined;
}

/** A record or checksum file beside a snapshot, never a snapshot itself. */
export function isSnapshotCompanion(key: string): boolean {
  return key.endsWith('.json') || key.endsWith('.sha256');
}

/** The snapshots present, sorted by block, at most one per block. */
export class SnapshotIndex {
  private readonly entries: SnapshotEntry[];

  constructor(keys: Iterable<string>) {
    const byBlock = new Map<number, string>();
    for (const key of [...keys].sort(compareKeys)) {
      if (isSnapshotCompanion(key)) continue;
      const block = snapshotBlock(key);
      if (block !== undefined && !byBlock.has(block)) byBlock.set(block, key);
    }
    this.entries = [...byBlock].map(([block, key]) => ({ key, block })).sort((a, b) => a.block - b.block);
  }

  get size(): number {
    return this.entries.length;
  }

  all(): readonly SnapshotEntry[] {
    return this.entries;
  }

  /** The latest snapshot at or below `block`; undefined means start from genesis. */
  latestAtOrBelow(block: number): SnapshotEntry | undefined {
    let low = 0;
    let high = this.entries.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.entries[mid]!.block <= block) low = mid + 1;
      else high = mid;
    }
    return low === 0 ? undefined : this.entries[low - 1];
  }
}

/** Lists `snapshots/` once (paged) and indexes what is there. */
export async function listSnapshots(store: Store): Promise<SnapshotIndex> {
  const keys: string[] = [];
  for await (const info of listAll(store, SNAPSHOTS_PREFIX)) keys.push(info.key);
  return new SnapshotIndex(keys);
}

