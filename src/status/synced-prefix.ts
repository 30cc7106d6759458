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
 */
import { CorruptObjectError } from '../layout/schema.js';
import { mapLimit } from '../manifest/map-limit.js';
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
    const listed = new Map<string, { info: ObjectInfo; seenAt: number }>();
    const foreign = new Set<string>();
    let startAfter: string | undefined;
    for (;;) {
      const page = await this.deps.store.list({ prefix: scope, startAfter });
      const seenAt = this.deps.clock.monotonic();
      for (const info of page.items) {
        const id = this.spec.idOf(info.key);
        if (id === undefined) foreign.add(info.key);
        else listed.set(id, { info, seenAt });
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
    const toRead: Array<{ id: string; info: ObjectInfo; seenAt: number }> = [];
    const unread = new Set([...this.unread].filter((id) => this.entries.get(id)?.key.startsWith(scope) === false));
    for (const [id, { info, seenAt }] of listed) {
      const known = this.entries.get(id);
      const changed = !known || known.etag !== info.etag;
      if (changed) {
        // The previous content stays shown until the new version is read; its age is the new one's.
        const sighting = { key: info.key, etag: info.etag, lastModified: info.lastModified.getTime(), firstSeenAt: seenAt };
        this.entries.set(id, known?.value === undefined ? sighting : { ...sighting, value: known.value });
        this.problems.delete(info.key);
      }
      if (!changed && !this.unread.has(id)) continue;
      // Unread until its GET succeeds (readAll), so `complete` stays false meanwhile.
      unread.add(id);
      if (!this.spec.skipRead?.(id) && options.read !== false) toRead.push({ id, info, seenAt });
    }
    this.unread = unread;
    await this.readAll(toRead);
  }

  /** Reads the entries listed but not read yet (and not skipped). */
  async readUnread(): Promise<void> {
    const toRead: Array<{ id: string; info: ObjectInfo; seenAt: number }> = [];
    for (const id of this.unread) {
      const entry = this.entries.get(id);
      if (!entry || this.spec.skipRead?.(id)) continue;
      toRead.push({ id, info: { key: entry.key, etag: entry.etag, size: 0, lastModified: new Date(entry.lastModified) }, seenAt: entry.firstSeenAt });
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
      this.entries.set(id, { key: entry.key, etag: entry.etag, lastModified: entry.lastModified, firstSeenAt: entry.firstSeenAt, value });
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
      const got = await this.deps.store.get(key, known?.value !== undefined ? { ifNoneMatch: known.etag } : undefined);
      const seenAt = this.deps.clock.monotonic();
      this.deps.onStoreClock({ storeDate: got.storeDate.getTime(), seenAt });
      if (isNotModified(got)) return;
      const firstSeenAt = known?.etag === got.etag ? known.firstSeenAt : seenAt;
      this.apply(id, { key, etag: got.etag, lastModified: got.lastModified.getTime(), firstSeenAt }, got.body);
      this.unread.delete(id);
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
      if (known) this.remove(id, known);
    }
  }

  private async readAll(toRead: Array<{ id: string; info: ObjectInfo; seenAt: number }>): Promise<void> {
    let firstError: unknown;
    await mapLimit(toRead, this.deps.concurrency, async ({ id, info }) => {
      try {
        const got = await this.deps.store.get(info.key);
        const arrived = this.deps.clock.monotonic();
        this.deps.onStoreClock({ storeDate: got.storeDate.getTime(), seenAt: arrived });
        if (isNotModified(got)) return;
        const entry = this.entries.get(id);
        if (!entry) return; // removed meanwhile
        // The listing's version may be older than the one read; keep the read one.
        const sighting = got.etag === entry.etag ? entry : { key: info.key, etag: got.etag, lastModified: got.lastModified.getTime(), firstSeenAt: arrived };
        this.apply(id, sighting, got.body);
        this.unread.delete(id);
      } catch (error) {
        if (error instanceof NotFoundError) {
          const entry = this.entries.get(id);
          if (entry) this.remove(id, entry);
          return;
        }
        this.unread.add(id);
        firstError ??= error;
      }
    });
    if (firstError !== undefined) throw firstError;
  }

  private apply(id: string, sighting: Omit<Entry<T>, 'value' | 'problem'>, body: Uint8Array): void {
    try {
      this.entries.set(id, { ...sighting, value: this.spec.decode(sighting.key, body, id) });
      this.problems.delete(sighting.key);
    } catch (error) {
      // Whatever the bucket holds must not crash a reader: an unexpected shape is a problem too.
      const problem = error instanceof CorruptObjectError ? error.message : `corrupt object ${sighting.key}: ${String(error)}`;
      this.entries.set(id, { key: sighting.key, etag: sighting.etag, lastModified: sighting.lastModified, firstSeenAt: sighting.firstSeenAt, problem });
      this.problems.set(sighting.key, problem);
    }
  }

  private remove(id: string, entry: Entry<T>): void {
    this.entries.delete(id);
    this.problems.delete(entry.key);
    this.unread.delete(id);
  }
}

const FOREIGN = 'foreign key (not an object this product writes here); it is ignored';
