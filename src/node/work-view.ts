import type { LeaseSnapshot } from '../lease/lease.js';
import type { ManifestItem } from '../manifest/items.js';
import type { ObjectInfo } from '../store/store.js';
import type { Clock } from '../time/clock.js';

/**
 * What one node believes about each item of the run, from its own listings,
 * reads and writes (and hints). It decides what to try, never who holds
 * what: every decision is confirmed by a conditional write.
 *
 *   free        no lease object at the last look: try a create-if-absent
 *   leased      a lease object exists (`etag` from the last listing or read;
 *               `read` is the last GET, current if its ETag matches)
 *   lease-done  the lease says `done` but no result was listed with it: not
 *               complete (issue 19). `noResultAt` is set once a results
 *               listing begun after that read showed none: then the item is
 *               claimable again (docs/protocol.md §3.1)
 *   done        a result exists (listed, or written by this node)
 *   blocked     a result is listed but unusable (corrupt, another item's):
 *               not complete, and not claimable either (results are never
 *               overwritten; the operator deletes it, then it is replayed)
 *   failed      the lease says failed (out of attempts)
 */
export type ItemKnowledge =
  | { state: 'free' }
  | { state: 'leased'; etag: string; lastModified: Date; read?: LeaseSnapshot }
  | { state: 'lease-done'; etag: string; lastModified: Date; read: LeaseSnapshot; noResultAt?: number }
  /** `since`: this node's monotonic time when it learnt of the result (undefined without a clock: never undone). */
  | { state: 'done'; since?: number }
  | { state: 'blocked' }
  | { state: 'failed' };

export interface ListingOptions {
  /** Monotonic time the results listing began; lets a result known before it, and missing from it, count as deleted. */
  startedAt?: number;
  /** Listed results known to be unusable (result-check.ts). */
  unusable?: ReadonlySet<string>;
}

export class WorkView {
  private readonly known = new Map<string, ItemKnowledge>();
  /** Items in manifest (block) order. */
  readonly order: readonly ManifestItem[];
  readonly byId: ReadonlyMap<string, ManifestItem>;

  constructor(orderedItems: readonly ManifestItem[], private readonly clock?: Pick<Clock, 'monotonic'>) {
    this.order = orderedItems;
    this.byId = new Map(orderedItems.map((item) => [item.id, item]));
    for (const item of orderedItems) this.known.set(item.id, { state: 'free' });
  }

  get(id: string): ItemKnowledge | undefined {
    return this.known.get(id);
  }

  /**
   * Replaces what listings can tell: items with a usable result are done;
   * with an unusable one, blocked; items with a lease are leased (keeping a
   * read whose ETag still matches); the rest are free. Final knowledge
   * (done, failed) is not undone by a listing that raced with the write
   * that finished it: a result this node knew of is taken as gone only when
   * a listing begun after it learnt of it does not show it (an operator
   * deleted it so that the item is replayed).
   */
  applyListings(resultIds: ReadonlySet<string>, leases: ReadonlyMap<string, ObjectInfo>, options: ListingOptions = {}): void {
    const { startedAt, unusable } = options;
    for (const [id, before] of this.known) {
      const listed = resultIds.has(id);
      if (listed && unusable?.has(id)) {
        this.known.set(id, { state: 'blocked' });
        continue;
      }
      if (before.state === 'done' && (listed || startedAt === undefined || before.since === undefined || startedAt <= before.since)) continue;
      if (listed) {
        this.known.set(id, this.doneNow());
        continue;
      }
      const lease = leases.get(id);
      if (before.state === 'failed' && lease) continue;
      if (!lease) {
        // A lease object can only disappear when an operator deletes it (to retry a failed item).
        this.known.set(id, { state: 'free' });
        continue;
      }
      if (before.state === 'lease-done' && before.etag === lease.etag) {
        // A results listing begun after the done lease was read, and still no result: the item is not complete.
        if (startedAt !== undefined && startedAt > before.read.seenAt) this.known.set(id, { ...before, noResultAt: startedAt });
        continue;
      }
      const read = before.state === 'leased' && before.read?.etag === lease.etag ? before.read : undefined;
      this.known.set(id, { state: 'leased', etag: lease.etag, lastModified: lease.lastModified, ...(read ? { read } : {}) });
    }
  }

  /** A GET of the lease (or the write we just made): the freshest knowledge there is. */
  noteLease(id: string, snapshot: LeaseSnapshot | undefined): void {
    const before = this.known.get(id);
    // A result decides, whatever the lease says.
    if (!before || before.state === 'done' || before.state === 'blocked') return;
    if (!snapshot) {
      this.known.set(id, { state: 'free' });
      return;
    }
    const state = snapshot.record?.state;
    // `done` counts only with a result beside it: until a listing shows one, the item is not complete.
    if (state === 'done') this.known.set(id, { state: 'lease-done', etag: snapshot.etag, lastModified: snapshot.lastModified, read: snapshot });
    else if (state === 'failed') this.known.set(id, { state: 'failed' });
    else this.known.set(id, { state: 'leased', etag: snapshot.etag, lastModified: snapshot.lastModified, read: snapshot });
  }

  markDone(id: string): void {
    if (this.known.has(id)) this.known.set(id, this.doneNow());
  }

  private doneNow(): ItemKnowledge {
    return this.clock ? { state: 'done', since: this.clock.monotonic() } : { state: 'done' };
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

  /** Items whose lease says done but which have no result, once a listing confirmed that (claimable: §3.1). */
  *doneWithoutResult(): Generator<[ManifestItem, Extract<ItemKnowledge, { state: 'lease-done' }>]> {
    for (const item of this.order) {
      const k = this.known.get(item.id);
      if (k?.state === 'lease-done' && k.noResultAt !== undefined) yield [item, k];
    }
  }

  /** Every item has a usable result or failed for good. */
  get finished(): boolean {
    for (const k of this.known.values()) if (k.state !== 'done' && k.state !== 'failed') return false;
    return true;
  }

  counts(): Record<ItemKnowledge['state'], number> {
    const counts = { free: 0, leased: 0, 'lease-done': 0, done: 0, blocked: 0, failed: 0 };
    for (const k of this.known.values()) counts[k.state]++;
    return counts;
  }
}
