import type { MemberRecord } from '../gossip/membership.js';
import { runKeys } from '../layout/keys.js';
import { CorruptObjectError } from '../layout/schema.js';
import { ExpiryJudge } from '../lease/expiry.js';
import { boundTtl, excessiveTtlMessage } from '../lease/ttl-bound.js';
import { decodeObserverRecord, type ObserverRecord } from '../records/observer-record.js';
import type { Store } from '../store/store.js';
import type { Clock } from '../time/clock.js';
import type { Logger } from '../util/logger.js';
import { decodeNodeRecord, type NodeRecord } from '../records/node-record.js';
import type { StoreClock } from './store-clock.js';
import { WatchedRecords } from './watched-records.js';

export interface PeerWatchContext {
  store: Pick<Store, 'list' | 'get'>;
  clock: Pick<Clock, 'monotonic'>;
  logger: Logger;
  run: string;
  /** This node's id: its own record is not watched. */
  self: string;
  storeClock: StoreClock;
  /** The run's lease TTL: the stale-after of records that do not say (unreadable ones), and the base of the cap on what a record may claim. */
  fallbackStaleAfterMs: number;
}

export interface PeerSummary {
  node: string;
  /** Unchanged for longer than its stale-after (presumed dead), or stopped. */
  gone: boolean;
  record?: NodeRecord;
}

/** Observers' stale-after cap is MAX_TTL_FACTOR times this (or the run's TTL, if longer). */
const OBSERVER_BASE_MS = 60_000;

/** Member names for observers: never a node id (node ids have no `/`), so an observer cannot speak for a node. */
const OBSERVER_MEMBER = (id: string): string => `observer/${id}`;

/**
 * Finds dead peers from their heartbeats (docs/protocol.md §4): one listing
 * of `nodes/` per round; a stale record's node is presumed dead and the
 * items its last version names are the leases worth reading. Records are
 * read when first seen and, on rounds that ask for details (the node has
 * nothing to claim), when changed: O(nodes) requests, never O(items).
 * The run's observers (`observers/`, their presence records) are watched
 * the same way, so live ones can be admitted to gossip as listeners.
 */
export class PeerWatch {
  private readonly nodes: WatchedRecords<NodeRecord>;
  private readonly observers: WatchedRecords<ObserverRecord>;
  private readonly dropped = new Set<string>();
  /** Records already reported for claiming too long a stale-after (once per key). */
  private readonly reported = new Set<string>();

  constructor(ctx: PeerWatchContext) {
    const keys = runKeys(ctx.run);
    // Records unchanged for 3 stale-afters are of nodes long dead or stopped: a new node need not read them all.
    const common = { store: ctx.store, clock: ctx.clock, logger: ctx.logger, storeClock: ctx.storeClock, ignoreOlderThanMs: 3 * ctx.fallbackStaleAfterMs };
    const judge = (): ExpiryJudge => new ExpiryJudge(ctx.clock, { fallbackTtlMs: ctx.fallbackStaleAfterMs });
    // A record's own stale-after, capped (ttl-bound.ts): `1e15` would keep a dead node "working" forever.
    // Observers are not paced by the run's TTL (they heartbeat every few seconds whatever it is): their cap is at least 10 minutes.
    const baseOf = (kind: 'node' | 'observer'): number => (kind === 'node' ? ctx.fallbackStaleAfterMs : Math.max(ctx.fallbackStaleAfterMs, OBSERVER_BASE_MS));
    const staleAfterOf = (kind: 'node' | 'observer') => (r: { staleAfterMs: number } | undefined): number =>
      (r ? boundTtl(r.staleAfterMs, baseOf(kind)).ms : ctx.fallbackStaleAfterMs);
    const checkRun = <T extends { run: string; staleAfterMs: number }>(key: string, record: T, ok: boolean, kind: 'node' | 'observer'): T => {
      if (!ok || record.run !== ctx.run) throw new CorruptObjectError(key, 'names another run or writer');
      const bounded = boundTtl(record.staleAfterMs, baseOf(kind));
      if (bounded.excessive !== undefined && !this.reported.has(key)) {
        this.reported.add(key);
        ctx.logger.warn({ key, staleAfterMs: bounded.excessive, usedMs: bounded.ms }, excessiveTtlMessage(key, 'staleAfterMs', bounded.excessive, bounded.ms));
      }
      return record;
    };
    this.nodes = new WatchedRecords<NodeRecord>({
      ...common, judge: judge(), prefix: keys.nodesPrefix, skip: ctx.self,
      decode: (key, body, name) => {
        const record = decodeNodeRecord(key, body);
        return checkRun(key, record, record.node === name, 'node');
      },
      staleAfterOf: staleAfterOf('node'),
      saysGone: (r) => r.state === 'stopped',
      onChange: (_name, before, after) => {
        const now = new Set(after.items.map((i) => i.item));
        const released = new Set(after.released ?? []);
        for (const i of before?.items ?? []) if (!now.has(i.item) && released.has(i.item)) this.dropped.add(i.item);
      },
    });
    this.observers = new WatchedRecords<ObserverRecord>({
      ...common, judge: judge(), prefix: keys.observersPrefix,
      decode: (key, body, name) => {
        const record = decodeObserverRecord(key, body);
        return checkRun(key, record, record.observer === name, 'observer');
      },
      staleAfterOf: staleAfterOf('observer'),
    });
  }

  /** One round. `details`: also re-read node records that changed (to see released items, stops). */
  async refresh(options: { details: boolean }): Promise<void> {
    await Promise.all([this.nodes.refresh(options.details), this.observers.refresh(true)]);
  }

  /** Record GETs so far: node records and observer presence. */
  get recordReads(): { nodes: number; observers: number } {
    return { nodes: this.nodes.reads, observers: this.observers.reads };
  }

  /** Every watched peer (not this node), with the last record read. */
  summaries(): PeerSummary[] {
    return this.nodes.all().map((e) => ({ node: e.name, gone: e.gone, ...(e.record ? { record: e.record } : {}) }));
  }

  /** Peers that are alive and not stopped. */
  liveNodes(): string[] {
    return this.summaries().filter((s) => !s.gone).map((s) => s.node);
  }

  /** Items named by the last records of dead or stopped peers: their leases may be expired or released. */
  suspectItems(): Set<string> {
    const items = new Set<string>();
    for (const s of this.summaries()) if (s.gone) for (const i of s.record?.items ?? []) items.add(i.item);
    return items;
  }

  /** Items named by the last records of live peers: they work on them (or did at their last heartbeat). */
  liveItems(): Set<string> {
    const items = new Set<string>();
    for (const s of this.summaries()) if (!s.gone) for (const i of s.record?.items ?? []) items.add(i.item);
    return items;
  }

  /** A live peer whose current record says it works on `item` (a changed lease ETag is then most likely a renewal). */
  liveHolderOf(item: string, node: string): boolean {
    const peer = this.nodes.get(node);
    if (!peer?.record || peer.gone || !peer.current) return false;
    return peer.record.items.some((i) => i.item === item);
  }

  /**
   * Items that a peer's newer record no longer lists and names as released
   * (it stopped, or its attempt failed) since the last call: worth one read
   * each, since a released lease is claimable at once.
   */
  takeDropped(): string[] {
    const items = [...this.dropped];
    this.dropped.clear();
    return items;
  }

  /** For gossip: who may connect. Peers with a peer id, and live observers as listeners; stale ones flagged. */
  members(): MemberRecord[] {
    const members: MemberRecord[] = [];
    for (const e of this.nodes.all()) {
      if (e.record?.peerId) members.push({ node: e.name, peerId: e.record.peerId, addrs: e.record.addrs ?? [], stale: e.gone });
    }
    for (const e of this.observers.all()) {
      if (e.record) members.push({ node: OBSERVER_MEMBER(e.name), peerId: e.record.peerId, addrs: e.record.addrs, stale: e.gone });
    }
    return members;
  }
}
