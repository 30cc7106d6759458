import type { MemberRecord } from '../gossip/membership.js';
import { runKeys } from '../layout/keys.js';
import { CorruptObjectError } from '../layout/schema.js';
import type { ExpiryJudge } from '../lease/expiry.js';
import { mapLimit } from '../manifest/map-limit.js';
import { getIfExists } from '../store/get-if-exists.js';
import { listAll, type Store } from '../store/store.js';
import type { Clock } from '../time/clock.js';
import type { Logger } from '../util/logger.js';
import { decodeNodeRecord, type NodeRecord } from './node-record.js';
import type { StoreClock } from './store-clock.js';

export interface PeerWatchContext {
  store: Pick<Store, 'list' | 'get'>;
  clock: Pick<Clock, 'monotonic'>;
  logger: Logger;
  run: string;
  /** This node's id: its own record is not watched. */
  self: string;
  storeClock: StoreClock;
  /** A judge of its own for node-record ETags (the observer-clock rule). */
  judge: ExpiryJudge;
  /** Stale-after for records that do not say (unreadable ones): the run's lease TTL. */
  fallbackStaleAfterMs: number;
}

interface Peer {
  node: string;
  key: string;
  etag: string;
  lastModified: Date;
  /** The last record read, and the ETag it was read at. */
  record?: NodeRecord;
  recordEtag?: string;
  problem?: string;
}

export interface PeerSummary {
  node: string;
  /** Unchanged for longer than its stale-after (presumed dead), or stopped. */
  gone: boolean;
  record?: NodeRecord;
}

/** Store-clock ages carry one-second stamps: allow that much before calling a record stale. */
const STORE_CLOCK_MARGIN_MS = 1_000;

/**
 * Finds dead peers from their heartbeats (docs/protocol.md §4): one listing
 * of `nodes/` per round tells each record's ETag and store-clock age; a
 * record whose ETag has not changed for its `staleAfterMs` on our monotonic
 * clock, or whose store-clock age exceeds it, is presumed dead, and the
 * items its last version names are the leases worth reading. Records are
 * read (GET) when first seen and, on rounds that ask for details, when
 * their ETag changed: O(nodes) requests, never O(items).
 */
export class PeerWatch {
  private readonly peers = new Map<string, Peer>();
  private dropped = new Set<string>();

  constructor(private readonly ctx: PeerWatchContext) {}

  /** One round. `details`: also re-read records that changed (to see released items, stops). */
  async refresh(options: { details: boolean }): Promise<void> {
    const { ctx } = this;
    const prefix = runKeys(ctx.run).nodesPrefix;
    const seenAt = ctx.clock.monotonic();
    const listed = new Set<string>();
    for await (const info of listAll(ctx.store, prefix)) {
      const node = nodeIdOf(info.key, prefix);
      if (node === undefined) continue;
      listed.add(node);
      if (node === ctx.self) continue;
      ctx.judge.observe(info.key, info.etag, seenAt);
      const peer = this.peers.get(node);
      if (peer) Object.assign(peer, { etag: info.etag, lastModified: info.lastModified });
      else this.peers.set(node, { node, key: info.key, etag: info.etag, lastModified: info.lastModified });
    }
    for (const [node, peer] of this.peers) {
      if (!listed.has(node)) {
        this.peers.delete(node);
        ctx.judge.forget(peer.key);
      }
    }
    const toRead = [...this.peers.values()].filter((p) => p.recordEtag !== p.etag && (options.details || p.recordEtag === undefined || this.isGone(p)));
    await mapLimit(toRead, 8, (peer) => this.read(peer));
  }

  /** Every watched peer (not this node), with the last record read. */
  summaries(): PeerSummary[] {
    return [...this.peers.values()].map((p) => ({ node: p.node, gone: this.isGone(p), ...(p.record ? { record: p.record } : {}) }));
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

  /** A live peer whose last record says it works on `item` (a changed lease ETag is then most likely a renewal). */
  liveHolderOf(item: string, node: string): boolean {
    const peer = this.peers.get(node);
    if (!peer?.record || this.isGone(peer) || peer.recordEtag !== peer.etag) return false;
    return peer.record.items.some((i) => i.item === item);
  }

  /**
   * Items that a peer's newer record no longer lists (released when it
   * stopped or failed, or finished) since the last call: worth one read each,
   * since a released lease is claimable at once.
   */
  takeDropped(): string[] {
    const items = [...this.dropped];
    this.dropped.clear();
    return items;
  }

  /** For gossip: who may connect (peers with a peer id), stale ones flagged. */
  members(): MemberRecord[] {
    const members: MemberRecord[] = [];
    for (const p of this.peers.values()) {
      if (!p.record?.peerId) continue;
      members.push({ node: p.node, peerId: p.record.peerId, addrs: p.record.addrs ?? [], stale: this.isGone(p) });
    }
    return members;
  }

  private isGone(peer: Peer): boolean {
    if (peer.record?.state === 'stopped' && peer.recordEtag === peer.etag) return true;
    const staleAfter = peer.record?.staleAfterMs ?? this.ctx.fallbackStaleAfterMs;
    const unchangedFor = this.ctx.judge.observe(peer.key, peer.etag);
    return unchangedFor > staleAfter || this.ctx.storeClock.ageOf(peer.lastModified) > staleAfter + STORE_CLOCK_MARGIN_MS;
  }

  private async read(peer: Peer): Promise<void> {
    const got = await getIfExists(this.ctx.store, peer.key);
    if (!got) return; // deleted since the listing
    this.ctx.storeClock.observe(got.storeDate);
    try {
      const record = decodeNodeRecord(peer.key, got.body);
      if (record.node !== peer.node || record.run !== this.ctx.run) throw new CorruptObjectError(peer.key, 'names another node or run');
      const now = new Set(record.items.map((i) => i.item));
      for (const i of peer.record?.items ?? []) if (!now.has(i.item)) this.dropped.add(i.item);
      Object.assign(peer, { record, recordEtag: got.etag, etag: got.etag, lastModified: got.lastModified, problem: undefined });
    } catch (error) {
      if (!(error instanceof CorruptObjectError)) throw error;
      if (peer.problem !== error.message) this.ctx.logger.warn({ key: peer.key }, error.message);
      Object.assign(peer, { record: undefined, recordEtag: got.etag, problem: error.message });
    }
  }
}

/** `runs/<run>/nodes/<node>.json` -> `<node>`; undefined for anything else (foreign keys are skipped). */
function nodeIdOf(key: string, prefix: string): string | undefined {
  const rest = key.slice(prefix.length);
  const match = /^([A-Za-z0-9][A-Za-z0-9._-]{0,127})\.json$/.exec(rest);
  return match?.[1];
}
