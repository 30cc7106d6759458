import type { LeaseSnapshot } from '../lease/lease.js';
import type { ManifestItem } from '../manifest/items.js';
import type { ObjectInfo } from '../store/store.js';

/**
 * What one node believes about each item of the run, from its own listings,
 * reads and writes (and hints). It decides what to try, never who holds
 * what: every decision is confirmed by a conditional write.
 *
 *   free    no lease object at the last look: try a create-if-absent
 *   leased  a lease object exists (`etag` from the last listing or read;
 *           `read` is the last GET, current if its ETag matches)
 *   done    a result exists
 *   failed  the lease says failed (out of attempts)
 */
export type ItemKnowledge =
  | { state: 'free' }
  | { state: 'leased'; etag: string; lastModified: Date; read?: LeaseSnapshot }
  | { state: 'done' }
  | { state: 'failed' };

export class WorkView {
  private readonly known = new Map<string, ItemKnowledge>();
  /** Items in manifest (block) order. */
  readonly order: readonly ManifestItem[];
  readonly byId: ReadonlyMap<string, ManifestItem>;

  constructor(orderedItems: readonly ManifestItem[]) {
    this.order = orderedItems;
    this.byId = new Map(orderedItems.map((item) => [item.id, item]));
    for (const item of orderedItems) this.known.set(item.id, { state: 'free' });
  }

  get(id: string): ItemKnowledge | undefined {
    return this.known.get(id);
  }

  /**
   * Replaces what listings can tell: items with a result are done; items with
   * a lease are leased (keeping a read whose ETag still matches); the rest
   * are free. Final knowledge (done, failed) is never undone by a listing
   * that raced with the write that finished it.
   */
  applyListings(resultIds: ReadonlySet<string>, leases: ReadonlyMap<string, ObjectInfo>): void {
    for (const [id, before] of this.known) {
      if (before.state === 'done') continue;
      if (resultIds.has(id)) {
        this.known.set(id, { state: 'done' });
        continue;
      }
      const lease = leases.get(id);
      if (before.state === 'failed' && lease) continue;
      if (!lease) {
        // A lease object can only disappear when an operator deletes it (to retry a failed item).
        this.known.set(id, { state: 'free' });
        continue;
      }
      const read = before.state === 'leased' && before.read?.etag === lease.etag ? before.read : undefined;
      this.known.set(id, { state: 'leased', etag: lease.etag, lastModified: lease.lastModified, ...(read ? { read } : {}) });
    }
  }

  /** A GET of the lease (or the write we just made): the freshest knowledge there is. */
  noteLease(id: string, snapshot: LeaseSnapshot | undefined): void {
    const before = this.known.get(id);
    if (!before || before.state === 'done') return;
    if (!snapshot) {
      this.known.set(id, { state: 'free' });
      return;
    }
    const state = snapshot.record?.state;
    if (state === 'done') this.known.set(id, { state: 'done' });
    else if (state === 'failed') this.known.set(id, { state: 'failed' });
    else this.known.set(id, { state: 'leased', etag: snapshot.etag, lastModified: snapshot.lastModified, read: snapshot });
  }

  markDone(id: string): void {
    if (this.known.has(id)) this.known.set(id, { state: 'done' });
  }

  markFailed(id: string): void {
    const before = this.known.get(id);
    if (before && before.state !== 'done') this.known.set(id, { state: 'failed' });
  }

  isFree(index: number): boolean {
    const item = this.order[index];
    return item !== undefined && this.known.get(item.id)?.state === 'free';
  }

  /** Items with no lease at the last look, starting at `from` and wrapping around. */
  *freeFrom(from: number): Generator<[number, ManifestItem]> {
    const n = this.order.length;
    for (let k = 0; k < n; k++) {
      const index = (from + k) % n;
      if (this.isFree(index)) yield [index, this.order[index]!];
    }
  }

  /** Runs of consecutive free items, as [first index, length]. */
  freeRuns(): Array<[number, number]> {
    const runs: Array<[number, number]> = [];
    for (let i = 0; i < this.order.length; i++) {
      if (!this.isFree(i)) continue;
      const first = i;
      while (this.isFree(i + 1)) i++;
      runs.push([first, i - first + 1]);
    }
    return runs;
  }

  /** Leased items, in block order, with what is known of them. */
  *leased(): Generator<[ManifestItem, Extract<ItemKnowledge, { state: 'leased' }>]> {
    for (const item of this.order) {
      const k = this.known.get(item.id);
      if (k?.state === 'leased') yield [item, k];
    }
  }

  /** Every item has a result or failed for good. */
  get finished(): boolean {
    for (const k of this.known.values()) if (k.state !== 'done' && k.state !== 'failed') return false;
    return true;
  }

  counts(): Record<ItemKnowledge['state'], number> {
    const counts = { free: 0, leased: 0, done: 0, failed: 0 };
    for (const k of this.known.values()) counts[k.state]++;
    return counts;
  }
}
