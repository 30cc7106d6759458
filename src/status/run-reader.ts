/**
 * Loads a run's state from the store and keeps it up to date incrementally
 * (the one reader behind `replay-node status` and the observer).
 *
 * Cost of a refresh: one listing per prefix (a request per thousand keys)
 * plus one GET per object that is new or changed: results, conflicts,
 * failures and digests are immutable and read once; a result a nodes'
 * results digest covers is not read at all (digest-index.ts: a few hundred
 * digest GETs stand in for 100,000 result GETs); leases and node records again only
 * when the listing shows a new ETag; a lease is not read at all once its
 * item has a result (done is decided by the result). GETs run with bounded
 * concurrency. `refreshItem` and `refreshNodes` are the cheap targeted reads
 * a gossip event calls for; `refreshLeases` is the one a long-running reader
 * makes between listings so that a held lease is never guessed working or
 * expired from an old sighting (lease-states.ts): a conditional GET per lease
 * whose version is unread or would turn `unknown` soon, nothing otherwise.
 */
import { itemIdFromKey, parseItemId, runKeys, type RunKeys } from '../layout/keys.js';
import { checkRecordBounds } from '../layout/record-bounds.js';
import { CorruptObjectError } from '../layout/schema.js';
import { decodeLease, type LeaseRecord } from '../records/lease-record.js';
import { manifestItems, type ManifestItem } from '../manifest/items.js';
import type { Manifest } from '../manifest/manifest.js';
import { decodeManifest } from '../manifest/read-manifest.js';
import { decodeConflict, type ConflictRecord } from '../records/conflict-record.js';
import { decodeFailure, type FailureRecord } from '../records/failure-record.js';
import { decodeNodeRecord, type NodeRecord } from '../records/node-record.js';
import { decodeResult } from '../records/result-record.js';
import { decodeObserverRecord, type ObserverRecord } from '../records/observer-record.js';
import { NotFoundError } from '../store/errors.js';
import { isNotModified, type Store } from '../store/store.js';
import type { Clock } from '../time/clock.js';
import { DigestIndex, decodeDigestSummaries, type DigestSummaries } from './digest-index.js';
import { ManifestGoneError } from './manifest-gone.js';
import { leaseNeedsLook } from './lease-states.js';
import { summariseResult, type ResultSummary, type RunState, type StoreClockSample } from './run-state.js';
import { SyncedPrefix, type SyncDeps } from './synced-prefix.js';

export interface RunReaderOptions {
  store: Pick<Store, 'get' | 'list'>;
  clock: Pick<Clock, 'monotonic'>;
  run: string;
  /** GETs in flight at once. Default 32. */
  concurrency?: number;
  /**
   * For long-running readers (the observer): before each later refresh, one
   * conditional GET (304) of the manifest, so a store that lost its objects
   * fails the refresh (ManifestGoneError) instead of emptying the view.
   */
  checkManifest?: boolean;
}

const ULID = '[0-9A-HJKMNP-TV-Z]{26}';
const NO_MANIFEST = 'no manifest: the run is not published (replay-manifest publish)';

export class RunReader {
  readonly keys: RunKeys;
  private manifest: Manifest | undefined;
  private manifestEtag: string | undefined;
  private manifestProblem: string | undefined;
  private items: ManifestItem[] = [];
  private itemIds = new Set<string>();
  /** Item id -> the manifest's expected end hash, for the items that have one. */
  private expectedEndHash = new Map<string, string>();
  private storeClock: StoreClockSample | undefined;
  private lastRefreshFailed = false;
  private refreshing: Promise<RunState> | undefined;
  private listing: Promise<RunState> | undefined;
  private readonly results: SyncedPrefix<ResultSummary>;
  private readonly leases: SyncedPrefix<LeaseRecord>;
  private readonly conflicts: SyncedPrefix<ConflictRecord>;
  private readonly failures: SyncedPrefix<FailureRecord>;
  private readonly nodes: SyncedPrefix<NodeRecord>;
  private readonly observers: SyncedPrefix<ObserverRecord>;
  private readonly digests: SyncedPrefix<DigestSummaries>;

  constructor(private readonly options: RunReaderOptions) {
    const run = options.run;
    const keys = (this.keys = runKeys(run));
    const deps: SyncDeps = {
      store: options.store,
      clock: options.clock,
      concurrency: options.concurrency ?? 32,
      onStoreClock: (sample) => {
        if (!this.storeClock || sample.seenAt >= this.storeClock.seenAt) this.storeClock = sample;
      },
    };
    const itemKey = (prefix: string, keyOf: (item: string) => string) => (key: string) => {
      const item = itemIdFromKey(key, prefix);
      return item !== undefined && key === keyOf(item) && this.knownItem(item) ? item : undefined;
    };
    // Every small record is bounded (record-bounds.ts): one oversized object is a problem line, not a stack overflow.
    const checkRun = <T extends { run?: unknown }>(key: string, record: T, item?: { field: unknown; id: string }): T => {
      checkRecordBounds(key, record);
      if (record.run !== run) throw new CorruptObjectError(key, `names run ${JSON.stringify(record.run)}, not ${run}`);
      if (item && item.field !== item.id) throw new CorruptObjectError(key, `names item ${JSON.stringify(item.field)}, not ${item.id}`);
      return record;
    };
    this.results = new SyncedPrefix(deps, {
      prefix: keys.resultsPrefix,
      idOf: itemKey(keys.resultsPrefix, keys.result),
      decode: (key, body, id) => {
        const record = decodeResult(key, body);
        return summariseResult(checkRun(key, record, { field: record.item, id }), this.expectedEndHash.get(id));
      },
    });
    this.leases = new SyncedPrefix(deps, {
      prefix: keys.leasesPrefix,
      idOf: itemKey(keys.leasesPrefix, keys.lease),
      decode: (key, body, id) => {
        const record = decodeLease(key, body);
        return checkRun(key, record, { field: record.item, id });
      },
      skipRead: (item) => this.hasResult(item),
    });
    const perItem = (prefix: string, rest: RegExp) => (key: string) => {
      const item = itemIdFromKey(key, prefix);
      return item !== undefined && this.knownItem(item) && rest.test(key.slice(prefix.length + item.length)) ? key : undefined;
    };
    this.conflicts = new SyncedPrefix(deps, {
      prefix: keys.conflictsPrefix,
      idOf: perItem(keys.conflictsPrefix, new RegExp(`^/[A-Za-z0-9][A-Za-z0-9._-]*\\.${ULID}\\.json$`)),
      decode: (key, body) => {
        const record = decodeConflict(key, body);
        return checkRun(key, record, { field: record.item, id: itemIdFromKey(key, keys.conflictsPrefix)! });
      },
    });
    this.failures = new SyncedPrefix(deps, {
      prefix: keys.failuresPrefix,
      idOf: perItem(keys.failuresPrefix, new RegExp(`^/${ULID}\\.json$`)),
      decode: (key, body) => {
        const record = decodeFailure(key, body);
        return checkRun(key, record, { field: record.item, id: itemIdFromKey(key, keys.failuresPrefix)! });
      },
    });
    const named = (prefix: string, keyOf: (name: string) => string) => (key: string) => {
      const name = key.slice(prefix.length).replace(/\.json$/, '');
      try {
        return key === keyOf(name) && !name.includes('/') ? name : undefined;
      } catch {
        return undefined;
      }
    };
    this.nodes = new SyncedPrefix(deps, {
      prefix: keys.nodesPrefix,
      idOf: named(keys.nodesPrefix, keys.node),
      decode: (key, body, id) => {
        const record = decodeNodeRecord(key, body);
        return checkRun(key, record, { field: record.node, id });
      },
    });
    this.observers = new SyncedPrefix(deps, {
      prefix: keys.observersPrefix,
      idOf: named(keys.observersPrefix, keys.observer),
      decode: (key, body, id) => {
        const record = decodeObserverRecord(key, body);
        return checkRun(key, record, { field: record.observer, id });
      },
    });
    const digestKey = new RegExp(`^([A-Za-z0-9][A-Za-z0-9._-]*)/${ULID}\\.json$`);
    this.digests = new SyncedPrefix(deps, {
      prefix: keys.digestsPrefix,
      idOf: (key) => (digestKey.test(key.slice(keys.digestsPrefix.length)) ? key : undefined),
      decode: (key, body) => decodeDigestSummaries(key, body, {
        run,
        node: digestKey.exec(key.slice(keys.digestsPrefix.length))![1]!,
        knownItem: (item) => this.knownItem(item),
        expectedEndHash: (item) => this.expectedEndHash.get(item),
      }),
    });
  }

  get run(): string {
    return this.options.run;
  }

  /** Whether the manifest was read, is absent (the run is not published), or is unusable. */
  get manifestStatus(): 'unread' | 'read' | 'missing' | 'corrupt' {
    if (this.manifest) return 'read';
    if (this.manifestProblem === undefined) return 'unread';
    return this.manifestProblem === NO_MANIFEST ? 'missing' : 'corrupt';
  }

  /** Brings everything up to date (`refreshListings`, then `readResults`). Concurrent calls share one refresh. Store errors reject after the rest was applied. */
  refresh(): Promise<RunState> {
    this.refreshing ??= (async () => {
      await this.refreshListings();
      return this.readResults();
    })().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  /**
   * Everything but the result bodies: every listing, and the leases, node
   * records, conflicts and failures that changed. Item states are then
   * complete (a listed result means done); hashes and verdicts come with
   * `readResults`, which for a large run is most of the requests.
   */
  refreshListings(): Promise<RunState> {
    this.listing ??= this.doRefreshListings().finally(() => {
      this.listing = undefined;
    });
    return this.listing;
  }

  /** Reads the result bodies listed but not read yet. */
  async readResults(): Promise<RunState> {
    try {
      await this.results.readUnread();
    } catch (error) {
      this.lastRefreshFailed = true;
      throw error;
    }
    return this.state();
  }

  /** Node and observer records only: one listing each plus the records that changed (heartbeats). */
  async refreshNodes(): Promise<RunState> {
    await this.checkManifestStillThere();
    await settleAll([this.nodes.sync(), this.observers.sync()]);
    return this.state();
  }

  /** One item's result, lease, conflicts and failures, read now (a gossip event named it). */
  async refreshItem(item: string): Promise<RunState> {
    if (!this.knownItem(item)) return this.state();
    const k = this.keys;
    await settleAll([this.results.syncOne(item, k.result(item)), this.conflicts.sync(`${k.conflictsPrefix}${item}/`), this.failures.sync(k.failuresOf(item))]);
    if (!this.hasResult(item)) await this.leases.syncOne(item, k.lease(item));
    return this.state();
  }

  /**
   * Looks again at the leases whose state this reader could not tell by
   * `until` (monotonic) without a new look: held leases last seen long enough
   * ago that they would turn `unknown` by then, and leases whose current
   * version is unread (listed changed, GET failed). One GET each
   * (If-None-Match: 304 for an unchanged one); none when the listings are
   * recent. Leases of items with a result are never read.
   */
  async refreshLeases(until: number): Promise<RunState> {
    const due: Array<{ id: string; key: string }> = [];
    for (const [item, entry] of this.leases.entries) {
      if (!this.hasResult(item) && leaseNeedsLook(entry, this.manifest, this.storeClock, until)) due.push({ id: item, key: entry.key });
    }
    await this.leases.syncSome(due);
    return this.state();
  }

  private prefixes(): Array<SyncedPrefix<unknown>> {
    return [this.results, this.leases, this.conflicts, this.failures, this.nodes, this.observers, this.digests];
  }

  state(): RunState {
    const prefixes = this.prefixes();
    const problems = new Map<string, string>();
    if (this.manifestProblem) problems.set(this.keys.manifest, this.manifestProblem);
    for (const prefix of prefixes) for (const [key, problem] of prefix.problems) problems.set(key, problem);
    return {
      run: this.options.run,
      manifest: this.manifest,
      items: this.items,
      leases: this.leases.entries,
      results: this.results.entries,
      conflicts: this.conflicts.entries,
      failures: this.failures.entries,
      nodes: this.nodes.entries,
      observers: this.observers.entries,
      storeClock: this.storeClock,
      problems,
      complete: this.manifest !== undefined && !this.lastRefreshFailed && prefixes.every((p) => p.complete),
    };
  }

  private async doRefreshListings(): Promise<RunState> {
    try {
      if (!this.manifest) await this.readManifest();
      else await this.checkManifestStillThere();
      // Results first: a lease whose item has a result need not be read.
      const first = await Promise.allSettled([
        this.results.sync(undefined, { read: false }), this.digests.sync(), this.conflicts.sync(), this.failures.sync(), this.nodes.sync(), this.observers.sync(),
      ]);
      this.adoptDigests();
      const leases = await Promise.allSettled([this.leases.sync()]);
      const failed = [...first, ...leases].find((outcome) => outcome.status === 'rejected');
      this.lastRefreshFailed = failed !== undefined;
      if (failed) throw failed.reason;
    } catch (error) {
      this.lastRefreshFailed = true;
      throw error;
    }
    return this.state();
  }

  private async readManifest(): Promise<void> {
    const key = this.keys.manifest;
    try {
      const got = await this.options.store.get(key);
      if (isNotModified(got)) return;
      this.storeClock ??= { storeDate: got.storeDate.getTime(), seenAt: this.options.clock.monotonic() };
      this.manifest = decodeManifest(key, got.body, this.options.run);
      this.manifestEtag = got.etag;
      this.manifestProblem = undefined;
      // Read without a manifest, objects were neither checked against its items nor given verdicts: read them again.
      for (const prefix of this.prefixes()) prefix.reset();
      this.items = manifestItems(this.manifest);
      this.itemIds = new Set(this.items.map((i) => i.id));
      this.expectedEndHash = new Map(this.items.flatMap((i) => (i.interval.expectedEndHash ? [[i.id, i.interval.expectedEndHash] as const] : [])));
    } catch (error) {
      if (error instanceof NotFoundError) this.manifestProblem = NO_MANIFEST;
      else if (error instanceof CorruptObjectError) this.manifestProblem = error.message;
      else throw error;
    }
  }

  /**
   * Once read, a conditional GET (304, no body) before each later refresh:
   * a store that lost its objects lists nothing, and without this check
   * every entry would be dropped and the run shown all pending. Throws
   * ManifestGoneError before any listing, so the last view stays.
   */
  private async checkManifestStillThere(): Promise<void> {
    if (!this.manifest || !this.options.checkManifest) return;
    try {
      await this.options.store.get(this.keys.manifest, this.manifestEtag === undefined ? undefined : { ifNoneMatch: this.manifestEtag });
    } catch (error) {
      if (error instanceof NotFoundError) throw new ManifestGoneError(this.keys.manifest);
      throw error;
    }
  }

  /** Takes the summaries of listed, unread results from the digests (digest-index.ts says when that is sound). */
  private adoptDigests(): void {
    if (this.results.unreadCount === 0) return;
    const index = new DigestIndex(this.digests.entries.values());
    if (index.size > 0) this.results.adopt((item, sighting) => index.summaryFor(item, sighting));
  }

  /** Listed in results/ and not known to be corrupt (it may not be read yet). */
  private hasResult(item: string): boolean {
    const entry = this.results.entries.get(item);
    return entry !== undefined && entry.problem === undefined;
  }

  /** Without a manifest any well-formed item id is accepted (nothing to check against). */
  private knownItem(item: string): boolean {
    return this.manifest ? this.itemIds.has(item) : parseItemId(item) !== undefined;
  }
}

async function settleAll(work: Array<Promise<void>>): Promise<void> {
  const failed = (await Promise.allSettled(work)).find((outcome) => outcome.status === 'rejected');
  if (failed) throw failed.reason;
}
