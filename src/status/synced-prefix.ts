/**
 * One prefix of a run (`results/`, `leases/`, `nodes/`...) mirrored from the
 * store incrementally: each sync lists the prefix (one request per thousand
 * keys) and GETs only keys that are new or whose ETag changed, with bounded
 * concurrency. Immutable objects (results, conflicts, failures) are thus read
 * once; leases and node records again only after they changed.
 *
 * Bad data is reported, never fatal: a key that is not the prefix's kind is a
 * `foreign key` problem (not read), an object that does not decode is a
 * problem remembered with its ETag (not read again until it changes).
 *
 * An entry's value always belongs to the version its ETag names, or says it
 * does not: a changed key that is read at once keeps its previous entry
 * (an older view, consistent in itself) until the GET answers; if the GET
 * fails, or the key is not read now, the entry takes the listing's version
 * and keeps the older value flagged `outdated` (a lease is then `unknown`,
 * never the older read's state). Every listing page and GET that shows an
 * unchanged ETag moves its `lastSeenAt` to when that request was sent.
 */
import { CorruptObjectError } from '../layout/schema.js';
import { mapLimit } from '../util/map-limit.js';
import { NotFoundError } from '../store/errors.js';
import { isNotModified, type ObjectInfo, type Store } from '../store/store.js';
import type { Clock } from '../time/clock.js';
import type { Entry, Sighting, StoreClockSample } from './run-state.js';

export interface PrefixSpec<T> {
  prefix: string;
  /** The entry id for a key under the prefix (item id, node id, the key itself), or undefined for a foreign key. */
  idOf(key: string): string | undefined;
  /** @throws CorruptObjectError */
  decode(key: string, body: Uint8Array, id: string): T;
  /** Keys whose body is not needed now (a lease of an item that has its result): listed, not read. */
  skipRead?(id: string): boolean;
}

export interface SyncDeps {
  store: Pick<Store, 'get' | 'list'>;
  clock: Pick<Clock, 'monotonic'>;
  concurrency: number;
  /** Every GET response shows the store's clock. */
  onStoreClock(sample: StoreClockSample): void;
}

export class SyncedPrefix<T> {
  readonly entries = new Map<string, Entry<T>>();
  readonly problems = new Map<string, string>();
  /** Ids listed but not read yet (skipped, or their GET failed). */
  private unread = new Set<string>();

  constructor(private readonly deps: SyncDeps, private readonly spec: PrefixSpec<T>) {}

  /** Forgets everything (the next sync reads it all again). */
  reset(): void {
    this.entries.clear();
    this.problems.clear();
    this.unread.clear();
  }

  /** True when every listed entry that is needed has been read. */
  get complete(): boolean {
    for (const id of this.unread) if (!this.spec.skipRead?.(id)) return false;
    return true;
  }

  /**
   * Lists the prefix (or only `scope`, a narrower prefix such as one item's
   * failures), reads what changed (unless `read` is false: then it is only
   * marked unread, for `readUnread`), drops what disappeared. Store errors
   * propagate after the rest was applied.
   */
  async sync(scope = this.spec.prefix, options: { read?: boolean } = {}): Promise<void> {
    const listed = new Map<string, { info: ObjectInfo; sentAt: number; seenAt: number }>();
    const foreign = new Set<string>();
    let startAfter: string | undefined;
    for (;;) {
      const sentAt = this.deps.clock.monotonic();
      const page = await this.deps.store.list({ prefix: scope, startAfter });
      const seenAt = this.deps.clock.monotonic();
      for (const info of page.items) {
        const id = this.spec.idOf(info.key);
        if (id === undefined) foreign.add(info.key);
        else listed.set(id, { info, sentAt, seenAt });
      }
      if (!page.nextStartAfter) break;
      startAfter = page.nextStartAfter;
    }
    for (const [key, problem] of this.problems) {
      if (problem === FOREIGN && key.startsWith(scope) && !foreign.has(key)) this.problems.delete(key);
    }
    for (const key of foreign) this.problems.set(key, FOREIGN);
    for (const [id, entry] of this.entries) {
      if (entry.key.startsWith(scope) && !listed.has(id)) this.remove(id, entry);
    }
    const toRead: ToRead[] = [];
    const unread = new Set([...this.unread].filter((id) => this.entries.get(id)?.key.startsWith(scope) === false));
    for (const [id, { info, sentAt, seenAt }] of listed) {
      const known = this.entries.get(id);
      const reading = !this.spec.skipRead?.(id) && options.read !== false;
      if (known && known.etag === info.etag) {
        // Still this version when the page was asked for.
        known.lastSeenAt = Math.max(known.lastSeenAt, sentAt);
        if (!this.unread.has(id)) continue;
        unread.add(id);
        if (reading) toRead.push({ id, sighting: sightingOf(known) });
        continue;
      }
      const sighting: Sighting = { key: info.key, etag: info.etag, lastModified: info.lastModified.getTime(), firstSeenAt: seenAt, lastSeenAt: sentAt };
      // Unread until its GET succeeds (readAll), so `complete` stays false meanwhile.
      unread.add(id);
      if (reading) toRead.push({ id, sighting });
      else this.takeListed(id, sighting);
    }
    this.unread = unread;
    await this.readAll(toRead);
  }

  /** Reads the entries listed but not read yet (and not skipped). */
  async readUnread(): Promise<void> {
    const toRead: ToRead[] = [];
    for (const id of this.unread) {
      const entry = this.entries.get(id);
      if (!entry || this.spec.skipRead?.(id)) continue;
      toRead.push({ id, sighting: sightingOf(entry) });
    }
    await this.readAll(toRead);
  }

  /**
   * Fills unread entries from elsewhere (an index such as a results digest)
   * instead of reading them: `valueFor` gives the value for an unread entry
   * or undefined to leave it for `readUnread`.
   */
  adopt(valueFor: (id: string, sighting: Sighting) => T | undefined): void {
    for (const id of this.unread) {
      const entry = this.entries.get(id);
      if (!entry) continue;
      const value = valueFor(id, entry);
      if (value === undefined) continue;
      this.entries.set(id, { ...sightingOf(entry), value });
      this.problems.delete(entry.key);
      this.unread.delete(id);
    }
  }

  /** Listed entries whose body has not been read (yet). */
  get unreadCount(): number {
    return this.unread.size;
  }

  /** Reads one entry now (a gossip event named it); absent objects are dropped. */
  async syncOne(id: string, key: string): Promise<void> {
    const known = this.entries.get(id);
    try {
      const sentAt = this.deps.clock.monotonic();
      // Conditional only when we hold the value of the version we know (not an outdated one).
      const got = await this.deps.store.get(key, known?.value !== undefined && !known.outdated ? { ifNoneMatch: known.etag } : undefined);
      const seenAt = this.deps.clock.monotonic();
      this.deps.onStoreClock({ storeDate: got.storeDate.getTime(), seenAt });
      if (isNotModified(got)) {
        const entry = this.entries.get(id);
        if (entry?.etag === got.etag) {
          entry.lastSeenAt = Math.max(entry.lastSeenAt, sentAt);
          if (entry.value !== undefined && !entry.outdated) this.unread.delete(id);
        }
        return;
      }
      const firstSeenAt = known?.etag === got.etag ? known.firstSeenAt : seenAt;
      this.apply(id, { key, etag: got.etag, lastModified: got.lastModified.getTime(), firstSeenAt, lastSeenAt: sentAt }, got.body);
      this.unread.delete(id);
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
      if (known) this.remove(id, known);
    }
  }

  /** `syncOne` for several entries, with bounded concurrency; the first store error propagates after the rest were read. */
  async syncSome(targets: ReadonlyArray<{ id: string; key: string }>): Promise<void> {
    let firstError: { error: unknown } | undefined;
    await mapLimit(targets, this.deps.concurrency, async ({ id, key }) => {
      try {
        await this.syncOne(id, key);
      } catch (error) {
        firstError ??= { error };
      }
    });
    if (firstError) throw firstError.error;
  }

  private async readAll(toRead: ToRead[]): Promise<void> {
    let firstError: { error: unknown } | undefined;
    await mapLimit(toRead, this.deps.concurrency, async ({ id, sighting }) => {
      try {
        const sentAt = this.deps.clock.monotonic();
        const got = await this.deps.store.get(sighting.key);
        const arrived = this.deps.clock.monotonic();
        this.deps.onStoreClock({ storeDate: got.storeDate.getTime(), seenAt: arrived });
        if (isNotModified(got)) return;
        // The listing's version may be older than the one read; keep the read one.
        const read: Sighting = got.etag === sighting.etag
          ? { ...sighting, lastSeenAt: Math.max(sighting.lastSeenAt, sentAt) }
          : { key: sighting.key, etag: got.etag, lastModified: got.lastModified.getTime(), firstSeenAt: arrived, lastSeenAt: sentAt };
        this.apply(id, read, got.body);
        this.unread.delete(id);
      } catch (error) {
        if (error instanceof NotFoundError) {
          const entry = this.entries.get(id);
          if (entry) this.remove(id, entry);
          return;
        }
        // Not read: what the listing showed is all we know of this version.
        this.takeListed(id, sighting);
        this.unread.add(id);
        firstError ??= { error };
      }
    });
    if (firstError) throw firstError.error;
  }

  /** The entry becomes the listed version, unread: no value, or the older one flagged `outdated`. */
  private takeListed(id: string, sighting: Sighting): void {
    const known = this.entries.get(id);
    if (known?.etag === sighting.etag) return;
    if (known) this.problems.delete(known.key);
    this.entries.set(id, known?.value === undefined ? sightingOf(sighting) : { ...sightingOf(sighting), value: known.value, outdated: true });
  }

  private apply(id: string, sighting: Sighting, body: Uint8Array): void {
    try {
      this.entries.set(id, { ...sightingOf(sighting), value: this.spec.decode(sighting.key, body, id) });
      this.problems.delete(sighting.key);
    } catch (error) {
      // Whatever the bucket holds must not crash a reader: an unexpected shape is a problem too.
      const problem = error instanceof CorruptObjectError ? error.message : `corrupt object ${sighting.key}: ${String(error)}`;
      this.entries.set(id, { ...sightingOf(sighting), problem });
      this.problems.set(sighting.key, problem);
    }
  }

  private remove(id: string, entry: Entry<T>): void {
    this.entries.delete(id);
    this.problems.delete(entry.key);
    this.unread.delete(id);
  }
}

interface ToRead {
  id: string;
  /** The version the listing showed (the GET may find a newer one). */
  sighting: Sighting;
}

/** Only the sighting's own fields (an entry also carries its value, problem and flags). */
function sightingOf(s: Sighting): Sighting {
  return { key: s.key, etag: s.etag, lastModified: s.lastModified, firstSeenAt: s.firstSeenAt, lastSeenAt: s.lastSeenAt };
}

const FOREIGN = 'foreign key (not an object this product writes here); it is ignored';
