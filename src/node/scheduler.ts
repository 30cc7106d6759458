import { runKeys } from '../layout/keys.js';
import type { GossipHints } from '../gossip/hints.js';
import { claimLease } from '../lease/claim.js';
import { storeAgeSaysOlder, unchangedSaysOlder } from '../lease/expiry.js';
import { finishLease } from '../lease/finish.js';
import type { AcquiredHow, HeldLease, LeaseSnapshot } from '../lease/lease.js';
import { readLease } from '../lease/read-lease.js';
import type { ManifestItem } from '../manifest/items.js';
import { NotSupportedError } from '../store/errors.js';
import type { NodeContext } from './node-context.js';
import type { PeerWatch } from './peer-watch.js';
import type { WorkView } from './work-view.js';

export interface Claimed {
  item: ManifestItem;
  lease: HeldLease;
  how: AcquiredHow;
}

export interface SchedulerDeps {
  ctx: NodeContext;
  view: WorkView;
  peers: PeerWatch;
  hints?: GossipHints;
  /** Items this node is working on right now (never claimed twice locally). */
  isLocal(item: string): boolean;
}

export interface SchedulerStats {
  claims: number;
  /** Conditional writes that lost (the benchmark's "waste"). */
  failedWrites: number;
  leaseReads: number;
  /** Why leases were read: a release heard of, a possibly expired lease, a changed one. */
  readsFor: { released: number; expiry: number; changed: number };
}

interface Candidate {
  item: ManifestItem;
  /** Position in block order, for free items (moves the cursor). */
  index?: number;
  /** Read the lease first (it exists, or may have changed); otherwise try create-if-absent. */
  read: boolean;
  /** The item has its result; only its lease may still need marking `done` (its holder died before releasing). */
  finish?: boolean;
  /** Its lease says `done` but it has no result: acquire the done lease (docs/protocol.md §3.1). */
  reopen?: boolean;
  why?: keyof SchedulerStats['readsFor'];
  known?: LeaseSnapshot;
}

/** Lost creates in a row after which the view is too stale to trust: rescan before trying more. */
const STALE_VIEW_LOSSES = 3;
/** Leases that may have expired, read one by one up to this many; more mean the listing is old: rescan. */
const EXPIRY_READS_BEFORE_RESCAN = 4;

/**
 * Chooses what this node claims next, cheaply and without a herd:
 *
 *  1. items gossip says were just released (read, then CAS);
 *  2. leases that may have expired: named by dead or stopped peers' records,
 *     or quiet for a TTL in our listings (read, judge, take over);
 *  3. free items, walking forward from this node's cursor (create-if-absent:
 *     one request when it wins), skipping what gossip says others hold;
 *  4. released leases we have read, and leases whose ETag changed since our
 *     last read unless a live peer's record says it works on them (a renewal);
 *  5. `done` leases of items that have no result (a results listing begun
 *     after the lease was read showed none): reported once, then acquired
 *     with a CAS on the done lease's ETag, like a released one.
 *
 * Each candidate costs O(1) requests; a node never lists per claim. Items
 * whose lease names this node in `failedBy` are left to other live nodes
 * (retry-rule.ts); replicas of an interval this node already holds or held
 * are skipped.
 */
export class Scheduler {
  readonly stats: SchedulerStats = { claims: 0, failedWrites: 0, leaseReads: 0, readsFor: { released: 0, expiry: 0, changed: 0 } };
  /** Leases found held: not worth reading again before this monotonic time, unless their ETag changes. */
  private readonly notBefore = new Map<string, { at: number; etag: string | undefined }>();
  /** `<start>-<end>` of every interval this node has held (a node replays one replica of each at most). */
  private readonly myIntervals = new Set<string>();
  /** Items this node failed, with `completions` at the time (it proved healthy since when that grew). */
  private readonly failedLocally = new Map<string, number>();
  /** Items this node replayed to a result (any outcome: written, confirmed, conflict). */
  private completions = 0;
  /** `key etag` of done leases without a result already reported. */
  private readonly reportedDone = new Set<string>();
  /** Items whose lease key the store cannot hold an object at (reported once each). */
  private readonly unwritable = new Set<string>();
  /** Items with a result whose lease this node has seen final (done/failed) or made so. */
  private readonly leaseFinal = new Set<string>();
  /** Items this node wrote the result of but could not mark done (the store went away): the epoch it held. */
  private readonly ownOpen = new Map<string, number>();
  private lostCreates = 0;
  private jumpPending = false;
  private rescanForExpiry = false;
  private lastScan = -Infinity;
  /** Where this node walks the free items from (block order); set at random, moved on every collision. */
  private cursor: number | undefined;
  private released: string[] = [];

  constructor(private readonly deps: SchedulerDeps) {}

  /** True when a collision, lost races or many quiet leases say our listing is out of date: rescan before claiming on. */
  get wantsScan(): boolean {
    return this.jumpPending || this.rescanForExpiry || this.lostCreates >= STALE_VIEW_LOSSES;
  }

  /** When the view last got a fresh listing (monotonic; -Infinity before the first). */
  get lastScanAt(): number {
    return this.lastScan;
  }

  /** A fresh listing is in the view: move the cursor if a collision asked for it. */
  scanned(): void {
    this.lastScan = this.deps.ctx.clock.monotonic();
    this.rescanForExpiry = false;
    this.lostCreates = 0;
    if (this.jumpPending) this.jump();
    this.jumpPending = false;
  }

  /** Items to look at first (gossip `released`, or a peer that stopped gracefully). */
  hintReleased(items: Iterable<string>): void {
    // A loop, not push(...items): a gossip-sized list must never become call arguments (docs/bad-inputs.md).
    for (const item of items) this.released.push(item);
  }

  /** The earliest monotonic time a held lease we know of could be judged expired (for the node's sleep). */
  nextCheckAt(): number | undefined {
    const now = this.deps.ctx.clock.monotonic();
    let earliest: number | undefined;
    for (const [id, { at }] of this.notBefore) {
      // Past: the item is due already and is looked at when next offered (or never again: it finished). Counting it would wake the node at once, forever.
      if (at <= now) {
        if (this.deps.view.get(id)?.state !== 'leased') this.notBefore.delete(id);
        continue;
      }
      earliest = earliest === undefined ? at : Math.min(earliest, at);
    }
    return earliest;
  }

  async claimNext(signal?: AbortSignal): Promise<Claimed | undefined> {
    for (const candidate of this.candidates()) {
      if (signal?.aborted) return undefined;
      const claimed = await this.tryClaim(candidate, signal);
      if (claimed) return claimed;
      if (this.wantsScan) return undefined;
    }
    return undefined;
  }

  private *candidates(): Generator<Candidate> {
    const { view, peers, hints } = this.deps;
    const tried = new Set<string>();
    const offer = (item: ManifestItem | undefined, c: Omit<Candidate, 'item'>): Candidate | undefined => {
      if (!item || tried.has(item.id) || !this.eligible(item)) return undefined;
      tried.add(item.id);
      return { item, ...c };
    };

    const released = [...this.released, ...(hints?.takeReleased() ?? [])];
    this.released = [];
    for (const id of released) {
      const c = offer(view.byId.get(id), { read: true, why: 'released' });
      if (c) yield c;
    }

    const suspects = peers.suspectItems();
    const ttl = this.deps.ctx.manifest.defaults.leaseTtlMs;
    const mayBeExpired: ManifestItem[] = [];
    for (const [item, k] of view.leased()) {
      const quietFor = this.deps.ctx.judge.observe(this.leaseKey(item.id), k.etag);
      const storeAge = this.deps.ctx.storeClock.ageOf(k.lastModified);
      if ((suspects.has(item.id) || unchangedSaysOlder(quietFor, ttl) || storeAgeSaysOlder(storeAge, ttl)) && this.due(item.id, k.etag)) mayBeExpired.push(item);
    }
    // Most leases that look quiet in an old listing are of items finished since (a done lease never
    // changes again): past a few, one rescan (a listing per thousand items) beats a GET each.
    const sinceScan = this.deps.ctx.clock.monotonic() - this.lastScan;
    if (mayBeExpired.length > EXPIRY_READS_BEFORE_RESCAN && sinceScan > ttl / 2) {
      this.rescanForExpiry = true;
      return;
    }
    for (const item of mayBeExpired) {
      const c = offer(item, { read: true, why: 'expiry' });
      if (c) yield c;
    }
    for (const item of this.doneWithOpenLease(new Set([...this.ownOpen.keys(), ...suspects]))) {
      if (!this.due(item.id)) continue;
      tried.add(item.id);
      yield { item, read: true, why: 'expiry', finish: true };
    }

    for (const [item, k] of view.doneWithoutResult()) {
      const c = offer(item, { read: false, known: k.read, reopen: true });
      if (c) yield c;
    }

    this.cursor ??= Math.floor(this.deps.ctx.ids.random() * view.order.length);
    for (const [index, item] of view.freeFrom(this.cursor)) {
      if (hints?.heldElsewhere(item.id) !== undefined || hints?.finishedHash(item.id) !== undefined) continue;
      if (!this.due(item.id)) continue; // left for now (an unwritable lease key, an item left to others)
      const c = offer(item, { read: this.failedLocally.has(item.id), index });
      if (c) yield c;
    }

    for (const [item, k] of view.leased()) {
      const read = k.read;
      if (read && read.etag === k.etag) {
        if (read.record?.state === 'released') {
          const c = offer(item, { read: false, known: read });
          if (c) yield c;
        }
        continue;
      }
      const holder = read?.record?.holder;
      if (holder !== undefined && read?.record?.state === 'held' && peers.liveHolderOf(item.id, holder)) continue;
      if (!this.due(item.id, k.etag)) continue;
      const c = offer(item, { read: true, why: 'changed' });
      if (c) yield c;
    }
  }

  /**
   * Items a dead or stopped peer was working on that have a result, but
   * whose lease this node has not seen final: their holder may have died
   * between writing the result and releasing the lease (or lost the answer
   * to its result PUT), which would leave the lease `held` forever.
   */
  private *doneWithOpenLease(suspects: ReadonlySet<string>): Generator<ManifestItem> {
    for (const id of suspects) {
      if (this.leaseFinal.has(id) || this.deps.isLocal(id) || this.deps.view.get(id)?.state !== 'done') continue;
      const item = this.deps.view.byId.get(id);
      if (item) yield item;
    }
  }

  /**
   * Finished items whose lease may still be open, as far as this node can
   * tell: named by a dead peer's record (this node marks them done once
   * they expire) or by a live peer's (that peer releases them, or dies and
   * they become the first kind). A node that exits when the run is done
   * waits for these, so that no lease is left `held` beside its result.
   */
  unfinishedLeases(): number {
    let n = 0;
    const peers = this.deps.peers;
    for (const _ of this.doneWithOpenLease(new Set([...this.ownOpen.keys(), ...peers.suspectItems(), ...peers.liveItems()]))) n++;
    return n;
  }

  /** This node wrote `item`'s result but could not mark its lease (held at `epoch`) done: do it at the next look. */
  finishLater(item: string, epoch: number): void {
    this.ownOpen.set(item, epoch);
    this.leaseFinal.delete(item);
  }

  private eligible(item: ManifestItem): boolean {
    const { view, isLocal } = this.deps;
    const k = view.get(item.id);
    if (!k || k.state === 'done' || k.state === 'failed' || isLocal(item.id)) return false;
    if (item.replica !== undefined && this.myIntervals.has(intervalOf(item))) return false;
    return true;
  }

  /**
   * Leave an item to others when this node already failed it and a live
   * node has not, for one TTL after the release; then anyone may take it, so
   * an item never waits on a busy or paused peer forever. A node that has
   * not proved healthy since it failed the item (retry-rule.ts) leaves it
   * for as long as such a node lives: its own retry would not count.
   */
  private leaveToOthers(snapshot: LeaseSnapshot | undefined): boolean {
    const failedBy = snapshot?.record?.failedBy ?? [];
    if (!snapshot || !failedBy.includes(this.deps.ctx.node)) return false;
    const releasedFor = this.deps.ctx.storeClock.ageOf(snapshot.lastModified);
    if (releasedFor > this.deps.ctx.manifest.defaults.leaseTtlMs && this.provedHealthySince(snapshot.item)) return false;
    return this.deps.peers.liveNodes().some((node) => !failedBy.includes(node));
  }

  /** This node just failed `item`: from now on read its lease before claiming, so the retry goes elsewhere. */
  failedHere(item: string): void {
    this.failedLocally.set(item, this.completions);
  }

  /** This node replayed an item to a result: it proved healthy (retry-rule.ts). */
  completedHere(): void {
    this.completions++;
  }

  /** This node completed an item since it last failed `item` (false when it has no memory of failing it: a restart). */
  provedHealthySince(item: string): boolean {
    const at = this.failedLocally.get(item);
    return at !== undefined && this.completions > at;
  }

  private due(id: string, etag?: string): boolean {
    const wait = this.notBefore.get(id);
    if (wait === undefined) return true;
    if (this.deps.ctx.clock.monotonic() >= wait.at || (etag !== undefined && wait.etag !== undefined && etag !== wait.etag)) {
      this.notBefore.delete(id);
      return true;
    }
    return false;
  }

  private async tryClaim(candidate: Candidate, signal?: AbortSignal): Promise<Claimed | undefined> {
    const { ctx, view } = this.deps;
    const id = candidate.item.id;
    if (candidate.finish) return this.finishLease(id, signal);
    if (candidate.reopen) this.reportDoneWithoutResult(candidate.known!);
    let known = candidate.known;
    if (candidate.read) {
      this.stats.leaseReads++;
      if (candidate.why) this.stats.readsFor[candidate.why]++;
      known = await readLease(ctx.lease, id);
      if (known) ctx.storeClock.observe(known.storeDate);
      view.noteLease(id, known);
      if (!this.eligible(candidate.item)) return undefined;
    }
    if (this.leaveToOthers(known)) {
      this.notBefore.set(id, { at: ctx.clock.monotonic() + ctx.settings.idleScanMs, etag: known?.etag });
      return undefined;
    }
    const reopenDone = candidate.reopen === true && known?.etag === candidate.known?.etag;
    let result: Awaited<ReturnType<typeof claimLease>>;
    try {
      result = await claimLease(ctx.lease, id, { ...(known ? { known } : {}), ...(signal ? { signal } : {}), ...(reopenDone ? { reopenDone } : {}) });
    } catch (error) {
      if (!(error instanceof NotSupportedError)) throw error;
      this.skipUnwritable(id, error);
      return undefined;
    }
    this.unwritable.delete(id);
    this.stats.failedWrites += result.failedWrites;
    switch (result.kind) {
      case 'won':
        this.stats.claims++;
        this.lostCreates = 0;
        if (candidate.index !== undefined) this.cursor = candidate.index + 1;
        this.notBefore.delete(id);
        if (candidate.item.replica !== undefined) this.myIntervals.add(intervalOf(candidate.item));
        return { item: candidate.item, lease: result.lease, how: result.how };
      case 'held':
        view.noteLease(id, result.current);
        this.notBefore.set(id, { at: ctx.clock.monotonic() + result.waitMs, etag: result.current.etag });
        if (!known) this.collided(candidate);
        return undefined;
      case 'finished':
        // A done lease makes the item done only with a result beside it: the next listing tells (work-view.ts).
        view.noteLease(id, result.current);
        if (result.state === 'failed') view.markFailed(id);
        if (!known) this.collided(candidate);
        return undefined;
      case 'lost-race':
        view.noteLease(id, result.current);
        this.collided(candidate);
        return undefined;
    }
  }

  /** Reads the lease of a finished item and marks it `done` if nobody else can hold it; never claims work. */
  private async finishLease(id: string, signal?: AbortSignal): Promise<undefined> {
    const { ctx } = this.deps;
    this.stats.leaseReads++;
    this.stats.readsFor.expiry++;
    const snapshot = await readLease(ctx.lease, id);
    if (snapshot) ctx.storeClock.observe(snapshot.storeDate);
    const ownEpoch = this.ownOpen.get(id);
    const own = ownEpoch === undefined ? {} : { own: { holder: ctx.node, epoch: ownEpoch } };
    const outcome = await finishLease(ctx.lease, snapshot, { reason: 'result already written', ...own, ...(signal ? { signal } : {}) });
    if (outcome.kind === 'held') {
      this.notBefore.set(id, { at: ctx.clock.monotonic() + outcome.waitMs, etag: snapshot?.etag });
      return undefined;
    }
    if (outcome.kind === 'lost-race') {
      this.stats.failedWrites++;
      return undefined;
    }
    this.ownOpen.delete(id);
    this.leaseFinal.add(id);
    return undefined;
  }

  /** One line per done lease without a result (per version), before this node claims it again. */
  private reportDoneWithoutResult(snapshot: LeaseSnapshot): void {
    const key = `${snapshot.key} ${snapshot.etag}`;
    if (this.reportedDone.has(key)) return;
    this.reportedDone.add(key);
    const resultKey = runKeys(this.deps.ctx.run).result(snapshot.item);
    this.deps.ctx.logger.warn(
      { key: snapshot.key, item: snapshot.item, holder: snapshot.record?.holder, epoch: snapshot.record?.epoch },
      `lease ${snapshot.key} says done but ${resultKey} does not exist: item ${snapshot.item} is not complete; claiming it again`,
    );
  }

  /**
   * The store refuses any object at this item's lease key (a file store with a
   * directory of entries there, put by hand): one item's problem, not the
   * node's. Reported once, left for the operator; looked at again after a
   * TTL, so the item goes on once the key is fixed. The run cannot complete
   * meanwhile, which is right: the item is not done.
   */
  private skipUnwritable(id: string, error: NotSupportedError): void {
    const { ctx } = this.deps;
    if (!this.unwritable.has(id)) {
      this.unwritable.add(id);
      ctx.logger.error({ item: id, key: this.leaseKey(id) }, `cannot claim item ${id}: ${error.message}; the item waits until that is fixed`);
    }
    this.notBefore.set(id, { at: ctx.clock.monotonic() + ctx.manifest.defaults.leaseTtlMs, etag: undefined });
  }

  /** A create found the item already taken: another node works from here on; move away after a rescan. */
  private collided(candidate: Candidate): void {
    this.lostCreates++;
    if (candidate.index !== undefined) this.jumpPending = true;
  }

  /**
   * Moves the cursor into the middle half of the largest run of free items,
   * at a random point (so that two nodes jumping at once rarely pick the
   * same item). Each node walks forward from where it landed; the largest
   * gap is split in two, leaving room ahead of both it and the node behind
   * it, so nodes meet rarely: a collision costs one wasted write and one
   * rescan, and happens about once per half a gap's length of claims.
   */
  private jump(): void {
    let best: [number, number] | undefined;
    for (const run of this.deps.view.freeRuns()) if (!best || run[1] > best[1]) best = run;
    if (!best) return;
    const [first, length] = best;
    this.cursor = first + Math.floor(length * (0.25 + 0.5 * this.deps.ctx.ids.random()));
  }

  private leaseKey(id: string): string {
    return runKeys(this.deps.ctx.run).lease(id);
  }
}

function intervalOf(item: ManifestItem): string {
  return `${item.start}-${item.end}`;
}
