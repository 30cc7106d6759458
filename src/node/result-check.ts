import { runKeys } from '../layout/keys.js';
import { CorruptObjectError } from '../layout/schema.js';
import { mapLimit } from '../util/map-limit.js';
import { getIfExists } from '../store/get-if-exists.js';
import { listAll, type ObjectInfo, type Store } from '../store/store.js';
import type { Logger } from '../util/logger.js';
import { decodeDigest, type DigestEntry } from '../records/digest-record.js';
import { decodeResult, isHex } from '../records/result-record.js';

export interface ResultCheckContext {
  store: Pick<Store, 'get' | 'list'>;
  logger: Logger;
  run: string;
}

interface Cover {
  entry: DigestEntry;
  /** The newest digest (store clock, ms) that names this item with this summary. */
  modified: number;
}

const ULID = /^([A-Za-z0-9][A-Za-z0-9._-]*)\/[0-9A-HJKMNP-TV-Z]{26}\.json$/;
const GETS_AT_ONCE = 8;

/**
 * Which listed results a node may count as complete (issue 19: a corrupt
 * result counted as done, so `join --exit-when-done` said `run complete`
 * while status showed the item pending). A listed result is usable when it
 * reads as a valid result of its key's run and item (decodeResult), and
 * each version is judged once:
 *
 *   - a version this node wrote itself (the ETag its PUT returned) is usable;
 *   - a version a results digest covers (digest-record.ts; the status
 *     reader's rule, src/status/digest-index.ts: the digest is not older
 *     than the result, no other digest disagrees, its entry is valid) is
 *     usable without a GET, so a 100,000-item run costs a few hundred GETs;
 *   - anything else is read (one GET) and decoded.
 *
 * An unusable result is reported once per version, as an error naming the
 * key and the fix. Its item is not complete and is not replayed either: no
 * node overwrites or deletes a result (design §3), so a replay could only
 * record a conflict against garbage. The operator deletes the object; the
 * next listing shows the item without a result and it is replayed.
 *
 * The node checks when it has nothing to claim or its view says the run is
 * finished (replay-node.ts), so a busy node pays nothing.
 */
export class ResultCheck {
  private readonly good = new Map<string, string>();
  private readonly bad = new Map<string, { etag: string; problem: string }>();
  /** Digest key -> its entries by item (undefined: unusable, reported). Digests are immutable: read once. */
  private readonly digests = new Map<string, ReadonlyMap<string, DigestEntry> | undefined>();
  /** Digest key -> its last-modified (store clock, ms). */
  private readonly modified = new Map<string, number>();
  private covers = new Map<string, Cover | 'disputed'>();
  /** GETs made (results and digests), for the node's totals. */
  reads = 0;

  constructor(private readonly ctx: ResultCheckContext) {}

  /** This node wrote `item`'s result and the store answered with `etag`. */
  own(item: string, etag: string | undefined): void {
    if (etag !== undefined) this.good.set(item, etag);
  }

  /** Listed results already known unusable at their listed version (no requests). */
  unusable(results: ReadonlyMap<string, ObjectInfo>): Set<string> {
    const ids = new Set<string>();
    for (const [id, info] of results) if (this.bad.get(id)?.etag === info.etag) ids.add(id);
    return ids;
  }

  /** Judges every listed result not judged at its version yet; returns those unusable. Store errors propagate. */
  async check(results: ReadonlyMap<string, ObjectInfo>): Promise<Set<string>> {
    for (const id of [...this.good.keys(), ...this.bad.keys()]) if (!results.has(id)) this.forget(id);
    const pending = [...results].filter(([id, info]) => this.good.get(id) !== info.etag && this.bad.get(id)?.etag !== info.etag);
    if (pending.length > 0) {
      await this.readDigests();
      const unread = pending.filter(([id, info]) => !this.covered(id, info));
      await mapLimit(unread, GETS_AT_ONCE, ([id]) => this.read(id));
    }
    return this.unusable(results);
  }

  private forget(id: string): void {
    this.good.delete(id);
    this.bad.delete(id);
  }

  private covered(id: string, info: ObjectInfo): boolean {
    const cover = this.covers.get(id);
    if (cover === undefined || cover === 'disputed' || info.lastModified.getTime() > cover.modified) return false;
    this.good.set(id, info.etag);
    return true;
  }

  private async read(id: string): Promise<void> {
    const key = runKeys(this.ctx.run).result(id);
    this.reads++;
    const got = await getIfExists(this.ctx.store, key);
    if (!got) return; // deleted since the listing: the next one shows it
    try {
      decodeResult(key, got.body, { run: this.ctx.run, item: id });
      this.good.set(id, got.etag);
      this.bad.delete(id);
    } catch (error) {
      if (!(error instanceof CorruptObjectError)) throw error;
      if (this.bad.get(id)?.etag !== got.etag) {
        this.ctx.logger.error(
          { key, item: id, problem: error.message },
          `unusable result ${key}: item ${id} is not complete; delete the object and the item is replayed (nodes never overwrite a result)`,
        );
      }
      this.good.delete(id);
      this.bad.set(id, { etag: got.etag, problem: error.message });
    }
  }

  /** Lists `digests/` and reads the digests not read yet (each once). */
  private async readDigests(): Promise<void> {
    const prefix = runKeys(this.ctx.run).digestsPrefix;
    const fresh: ObjectInfo[] = [];
    for await (const info of listAll(this.ctx.store, prefix)) {
      if (!this.digests.has(info.key) && ULID.test(info.key.slice(prefix.length))) fresh.push(info);
    }
    if (fresh.length === 0) return;
    await mapLimit(fresh, GETS_AT_ONCE, (info) => this.readDigest(info.key, ULID.exec(info.key.slice(prefix.length))![1]!));
    this.covers = this.indexCovers();
  }

  private async readDigest(key: string, node: string): Promise<void> {
    this.reads++;
    const got = await getIfExists(this.ctx.store, key);
    if (!got) return;
    try {
      const record = decodeDigest(key, got.body);
      if (record.run !== this.ctx.run || record.node !== node) throw new CorruptObjectError(key, 'names another run or node');
      const entries = new Map<string, DigestEntry>();
      // An invalid entry covers nothing: its result is read instead.
      for (const entry of record.results) if (validEntry(entry)) entries.set(entry.item, entry);
      this.digests.set(key, entries);
      this.modified.set(key, got.lastModified.getTime());
    } catch (error) {
      if (!(error instanceof CorruptObjectError)) throw error;
      this.ctx.logger.warn({ key }, `${error.message} (an index only: the results it would cover are read instead)`);
      this.digests.set(key, undefined);
    }
  }

  private indexCovers(): Map<string, Cover | 'disputed'> {
    const covers = new Map<string, Cover | 'disputed'>();
    for (const [key, entries] of this.digests) {
      const modified = this.modified.get(key) ?? 0;
      for (const [item, entry] of entries ?? []) {
        const known = covers.get(item);
        if (known === undefined) covers.set(item, { entry, modified });
        else if (known !== 'disputed' && !sameEntry(known.entry, entry)) covers.set(item, 'disputed');
        else if (known !== 'disputed') known.modified = Math.max(known.modified, modified);
      }
    }
    return covers;
  }
}

function validEntry(e: DigestEntry): boolean {
  return isHex(e.endHash) && (e.startHash === undefined || isHex(e.startHash))
    && typeof e.headBlockId === 'string' && (e.headBlockId === '' || isHex(e.headBlockId))
    && Number.isSafeInteger(e.epoch) && e.epoch >= 1;
}

function sameEntry(a: DigestEntry, b: DigestEntry): boolean {
  return a.node === b.node && a.epoch === b.epoch && a.endHash === b.endHash && a.startHash === b.startHash && a.headBlockId === b.headBlockId;
}
