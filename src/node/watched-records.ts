import { CorruptObjectError } from '../layout/schema.js';
import { storeAgeSaysOlder, unchangedSaysOlder, type ExpiryJudge } from '../lease/expiry.js';
import { mapLimit } from '../util/map-limit.js';
import { getIfExists } from '../store/get-if-exists.js';
import { listAllSeen, type Store } from '../store/store.js';
import type { Clock } from '../time/clock.js';
import type { Logger } from '../util/logger.js';
import type { StoreClock } from './store-clock.js';

export interface WatchedRecordsContext<T> {
  store: Pick<Store, 'list' | 'get'>;
  clock: Pick<Clock, 'monotonic'>;
  logger: Logger;
  storeClock: StoreClock;
  /** A judge of its own for these records' ETags (the observer-clock rule). */
  judge: ExpiryJudge;
  /** E.g. `runs/<run>/nodes/`; keys are `<prefix><name>.json`. */
  prefix: string;
  /** Names never watched (this node itself). */
  skip?: string;
  /** Parses a record, checking it is the one its key names. @throws CorruptObjectError */
  decode(key: string, body: Uint8Array, name: string): T;
  staleAfterOf(record: T | undefined): number;
  /** A record that is not stale but says it is gone (a stopped node). */
  saysGone?(record: T): boolean;
  /** Called when a newer version of a record is read, with the one before. */
  onChange?(name: string, before: T | undefined, after: T): void;
  /**
   * A record first listed with a store-clock age above this is not read:
   * its writer is long gone (a node that died or stopped hours ago), and a
   * long run accumulates many. It is watched by its ETag like any other,
   * and read if it ever changes. Default: every record is read.
   */
  ignoreOlderThanMs?: number;
}

export interface Watched<T> {
  name: string;
  key: string;
  etag: string;
  lastModified: Date;
  /** Size in the last listing. */
  size: number;
  /** The last record read, the ETag and size it was read at, and when (monotonic). */
  record?: T;
  recordEtag?: string;
  recordSize?: number;
  readAt?: number;
  problem?: string;
}

const NAME = /^([A-Za-z0-9][A-Za-z0-9._-]{0,127})\.json$/;

/**
 * Heartbeat records under one prefix (node records, observer presence),
 * watched cheaply: one listing per round gives every record's ETag and
 * store-clock age; a record is read when first seen, and when changed only
 * if the caller asks. A record whose ETag has not changed for its
 * stale-after on our monotonic clock, or whose store-clock age exceeds it,
 * is stale: its writer is presumed gone (docs/protocol.md §4). Corrupt
 * records are reported once and judged by their ETag alone.
 */
export class WatchedRecords<T> {
  private readonly entries = new Map<string, Watched<T>>();
  /** Records left unread as long gone, with the ETag they had then (a new version is read). */
  private readonly ignored = new Map<string, string>();
  /** GETs made so far (for the node's totals). */
  reads = 0;

  constructor(private readonly ctx: WatchedRecordsContext<T>) {}

  /** One round: list, then read new records, gone ones, and (with `readChanged`) every changed one. */
  async refresh(readChanged: boolean): Promise<void> {
    const { ctx } = this;
    const listed = new Set<string>();
    for await (const info of listAllSeen(ctx.store, ctx.clock, ctx.prefix)) {
      const name = NAME.exec(info.key.slice(ctx.prefix.length))?.[1];
      if (name === undefined || name === ctx.skip) continue;
      listed.add(name);
      ctx.judge.observe(info.key, info.etag, info.seenAt);
      const entry = this.entries.get(name);
      if (entry) Object.assign(entry, { etag: info.etag, lastModified: info.lastModified, size: info.size });
      else this.entries.set(name, { name, key: info.key, etag: info.etag, lastModified: info.lastModified, size: info.size });
    }
    for (const [name, entry] of this.entries) {
      if (listed.has(name)) continue;
      this.entries.delete(name);
      this.ignored.delete(name);
      ctx.judge.forget(entry.key);
    }
    const toRead = [...this.entries.values()].filter((e) => e.recordEtag !== e.etag && !this.longGone(e) && (e.recordEtag === undefined || this.isGone(e) || (readChanged && this.worthReading(e))));
    await mapLimit(toRead, 8, (entry) => this.read(entry));
  }

  /**
   * A heartbeat rewrites a record with the same fields, so its size stays
   * the same; a change of state, items or released items changes the size
   * (item ids have one length, but a stop empties `items` and adds a
   * reason, a release grows `released`). Changed records of the same size
   * are read only once per stale-after period, as a safety net.
   */
  private worthReading(entry: Watched<T>): boolean {
    if (entry.recordSize !== entry.size) return true;
    return this.ctx.clock.monotonic() - (entry.readAt ?? -Infinity) > this.ctx.staleAfterOf(entry.record);
  }

  /** Never read, and older than `ignoreOlderThanMs` by the store's clock: not worth a GET (until it changes). */
  private longGone(entry: Watched<T>): boolean {
    const limit = this.ctx.ignoreOlderThanMs;
    if (limit === undefined || entry.recordEtag !== undefined) return false;
    if (this.ignored.get(entry.name) === entry.etag) return true;
    if (this.ctx.storeClock.ageOf(entry.lastModified) <= limit) return false;
    this.ignored.set(entry.name, entry.etag);
    return true;
  }

  all(): Array<Watched<T> & { gone: boolean }> {
    return [...this.entries.values()].map((e) => ({ ...e, gone: this.isGone(e) }));
  }

  get(name: string): (Watched<T> & { gone: boolean; current: boolean }) | undefined {
    const e = this.entries.get(name);
    return e && { ...e, gone: this.isGone(e), current: e.recordEtag === e.etag };
  }

  private isGone(entry: Watched<T>): boolean {
    if (entry.record && entry.recordEtag === entry.etag && this.ctx.saysGone?.(entry.record)) return true;
    const staleAfter = this.ctx.staleAfterOf(entry.record);
    const unchangedFor = this.ctx.judge.observe(entry.key, entry.etag);
    return unchangedSaysOlder(unchangedFor, staleAfter) || storeAgeSaysOlder(this.ctx.storeClock.ageOf(entry.lastModified), staleAfter);
  }

  private async read(entry: Watched<T>): Promise<void> {
    this.reads++;
    const got = await getIfExists(this.ctx.store, entry.key);
    if (!got) return; // deleted since the listing
    this.ctx.storeClock.observe(got.storeDate);
    try {
      const record = this.ctx.decode(entry.key, got.body, entry.name);
      const before = entry.record;
      Object.assign(entry, { record, recordEtag: got.etag, recordSize: got.body.length, readAt: this.ctx.clock.monotonic(), etag: got.etag, lastModified: got.lastModified, size: got.body.length, problem: undefined });
      this.ctx.onChange?.(entry.name, before, record);
    } catch (error) {
      if (!(error instanceof CorruptObjectError)) throw error;
      if (entry.problem !== error.message) this.ctx.logger.warn({ key: entry.key }, error.message);
      Object.assign(entry, { record: undefined, recordEtag: got.etag, recordSize: got.body.length, readAt: this.ctx.clock.monotonic(), problem: error.message });
    }
  }
}
