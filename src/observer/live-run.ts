/**
 * One run's live view inside the observer. Built from the store at start
 * (RunReader.refresh), re-synced from the store every `resyncMs` so it is
 * right with gossip down, node records re-read every `nodesMs` (heartbeats:
 * who is dead) together with the few leases the view could not judge by the
 * next beat without a new look (RunReader.refreshLeases: held leases whose
 * last listing grows too old, changed ones not read yet: a lease's state is
 * never guessed, docs/status.md), and kept live from gossip: progress
 * messages update speeds and head blocks at once, item events (claimed,
 * done, released, failed, conflict) trigger a targeted read of that item,
 * so what is shown still comes from the store. Each change recomputes the
 * view (at most every `throttleMs`) and tells the listeners; the cell of an
 * item an event named is recomputed alone and sent at once.
 *
 * A store that does not answer is part of the view (`storeError`,
 * store-trouble.ts): the last view read stays, marked with the error and
 * since when, and the re-sync is retried with backoff (1 s doubling up to
 * `resyncMs`) instead of waiting a whole period.
 */
import type { ReceivedMessage } from '../gossip/gossip.js';
import { GossipHints } from '../gossip/hints.js';
import type { MemberRecord } from '../gossip/membership.js';
import type { EventMessage } from '../gossip/messages.js';
import { Ticker } from '../time/ticker.js';
import { computeRunView, itemCell, nodeViews, readItemDetail, RunReader, type ItemDetail, type RunView, type StatusInput } from '../status/index.js';
import type { Store } from '../store/store.js';
import type { Clock } from '../time/clock.js';
import type { Logger } from '../util/logger.js';
import { StoreTrouble, type StoreErrorInfo } from './store-trouble.js';

export interface LiveRunOptions {
  store: Pick<Store, 'get' | 'list'>;
  clock: Clock;
  run: string;
  logger: Logger;
  /** This observer's id: its own gossip (if any came back) is ignored. */
  observer: string;
  resyncMs?: number;
  nodesMs?: number;
  throttleMs?: number;
  /** Entries per list in the status (counts stay complete). */
  listLimit?: number;
  concurrency?: number;
}

/** A run's view as the observer shows it: the status and grid, and whether the store answers. */
export interface LiveView extends RunView {
  /** Set while the store does not answer this run's reads (the status is then the last one read). */
  storeError: StoreErrorInfo | null;
}

export interface ViewUpdate {
  view: LiveView;
  /** Grid cells that changed since the previous update: [index, code] pairs (all of them the first time). */
  changed: Array<[number, string]> | 'all';
  /** False for a quick update of single cells (an item a gossip event named); the status follows with the next recompute. */
  statusChanged: boolean;
}

export type LiveRunListener = {
  view?: (update: ViewUpdate) => void;
  gossip?: (message: ReceivedMessage['message']) => void;
  members?: (members: MemberRecord[]) => void;
};

export class LiveRun {
  readonly reader: RunReader;
  readonly hints: GossipHints;
  private view: LiveView | undefined;
  private readonly trouble: StoreTrouble;
  private readonly listeners = new Set<LiveRunListener>();
  private readonly resync: Ticker;
  private readonly nodes: Ticker;
  private recomputeScheduled = false;
  private readonly pendingItems = new Set<string>();
  private itemsInFlight = false;
  private readonly halt = new AbortController();
  private started = false;
  private stopping: Promise<void> | undefined;
  private markLoaded!: () => void;
  private readonly firstLoad = new Promise<void>((resolve) => {
    this.markLoaded = resolve;
  });
  private readonly throttleMs: number;
  private readonly nodesMs: number;
  private itemIndex: Map<string, number> | undefined;

  constructor(private readonly options: LiveRunOptions) {
    this.reader = new RunReader({ store: options.store, clock: options.clock, run: options.run, concurrency: options.concurrency ?? 32, checkManifest: true });
    this.hints = new GossipHints(options.clock, options.observer);
    this.throttleMs = options.throttleMs ?? 1_000;
    this.nodesMs = options.nodesMs ?? 5_000;
    const onError = (what: string) => (error: unknown) => options.logger.warn({ run: options.run, err: error }, `observer ${what} failed; retrying`);
    const resyncMs = options.resyncMs ?? 30_000;
    this.trouble = new StoreTrouble({
      clock: options.clock, logger: options.logger, context: { run: options.run }, maxDelayMs: resyncMs, signal: this.halt.signal, retry: () => this.resync.wake(),
    });
    this.resync = new Ticker(options.clock, resyncMs, () => this.refreshAll(), onError('store re-sync'));
    this.nodes = new Ticker(options.clock, this.nodesMs, () => this.refreshNodes(), onError('node record read'));
  }

  get run(): string {
    return this.options.run;
  }

  /** Starts the loops; the first full load runs in the background (`loaded()` waits for it). Idempotent. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.resync.start(); // its first tick is the first full load
  }

  /** Resolves once the first listing of the store has finished (every item's state is known; hashes may still be loading) or failed (then `storeError()` says why). */
  loaded(): Promise<void> {
    this.start();
    return this.firstLoad;
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.halt.abort();
      await Promise.all([this.resync.stop(), this.nodes.stop()]);
    })();
    return this.stopping;
  }

  current(): LiveView | undefined {
    return this.view;
  }

  /** Why the store's answers are missing from the view, while they are. */
  storeError(): StoreErrorInfo | null {
    return this.trouble.info();
  }

  subscribe(listener: LiveRunListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Feeds a message heard on the run's gossip. */
  observe(received: ReceivedMessage): void {
    this.hints.observe(received);
    const message = received.message;
    for (const l of this.listeners) l.gossip?.(message);
    if (message.type === 'progress') return this.scheduleRecompute();
    const event = message as EventMessage;
    if (event.item) this.refreshItemSoon(event.item);
    else if (event.event === 'joining' || event.event === 'leaving') this.nodes.wake();
  }

  async itemDetail(item: string): Promise<ItemDetail | undefined> {
    return readItemDetail(this.reader, this.options.store, this.options.clock, item, this.statusInput());
  }

  statusInput(): StatusInput {
    return {
      now: { monotonic: this.options.clock.monotonic(), wall: this.options.clock.now() },
      peers: this.hints.peerStates(),
      listLimit: this.options.listLimit ?? 100,
    };
  }

  /** Listings first (every item's state), shown at once; then the result bodies (hashes), with the view refreshed as they come. */
  private async refreshAll(): Promise<void> {
    try {
      await this.reader.refreshListings();
      this.trouble.succeeded();
      this.afterNodes();
      this.recompute();
      this.markLoaded();
      // Heartbeats are watched from the first listing on (it read the records).
      if (!this.halt.signal.aborted) this.nodes.start();
      await this.reader.readResults();
    } catch (error) {
      this.trouble.failed(error, 'store re-sync');
    } finally {
      // Loaded even when the first attempt failed or the view cannot be computed: callers waiting on it must get an answer.
      this.markLoaded();
      this.afterNodes();
      this.recompute();
      if (!this.halt.signal.aborted) this.nodes.start();
    }
  }



  /** Heartbeats, and the leases that would otherwise turn `unknown` before the beat after next (a lease is never guessed). */
  private async refreshNodes(): Promise<void> {
    try {
      const until = this.options.clock.monotonic() + 2 * this.nodesMs;
      const failed = (await Promise.allSettled([this.reader.refreshNodes(), this.reader.refreshLeases(until)])).find((o) => o.status === 'rejected');
      if (failed) {
        // Shown like a failed re-sync; only a full re-sync clears it (a partial answer is not the store being back).
        this.trouble.failed(failed.reason, 'node record read');
        return;
      }
    } finally {
      this.afterNodes();
      this.scheduleRecompute();
    }
  }

  /** Gossip members: the nodes with a peer id, those whose records are dead or stopped marked stale. */
  members(): MemberRecord[] {
    const state = this.reader.state();
    const members: MemberRecord[] = [];
    for (const node of nodeViews(state, this.options.clock.monotonic()).values()) {
      const record = state.nodes.get(node.node)?.value;
      if (!record?.peerId) continue;
      members.push({ node: node.node, peerId: record.peerId, addrs: record.addrs ?? [], stale: node.state === 'dead' || node.state === 'stopped' });
    }
    return members;
  }

  /** Re-reads the node records now (someone new may have joined). */
  wakeNodes(): void {
    if (this.started) this.nodes.wake();
  }

  private afterNodes(): void {
    if (![...this.listeners].some((l) => l.members)) return;
    const members = this.members();
    for (const l of this.listeners) l.members?.(members);
  }

  /** Item events come in bursts; the reads for them are batched, one item at a time per run. */
  private refreshItemSoon(item: string): void {
    this.pendingItems.add(item);
    if (this.itemsInFlight) return;
    this.itemsInFlight = true;
    void (async () => {
      try {
        while (this.pendingItems.size > 0 && !this.halt.signal.aborted) {
          const batch = [...this.pendingItems];
          this.pendingItems.clear();
          await Promise.all(batch.map((i) => this.reader.refreshItem(i).catch((error) => this.options.logger.debug({ item: i, err: error }, 'item read failed'))));
          this.patchCells(batch);
          this.scheduleRecompute();
        }
      } finally {
        this.itemsInFlight = false;
      }
    })();
  }

  private scheduleRecompute(): void {
    if (this.recomputeScheduled || this.halt.signal.aborted) return;
    this.recomputeScheduled = true;
    this.options.clock.sleep(this.throttleMs, this.halt.signal).then(
      () => {
        this.recomputeScheduled = false;
        this.recompute();
      },
      () => {},
    );
  }

  private recompute(): void {
    const previous = this.view;
    let computed: RunView;
    try {
      computed = computeRunView(this.reader.state(), this.statusInput());
    } catch (error) {
      // A bug, not bad data (that is reported and skipped): the last view stays, and the log says why it is not moving.
      this.options.logger.error({ run: this.options.run, err: error }, 'observer could not compute the run view');
      return;
    }
    const view: LiveView = { ...computed, storeError: this.trouble.info() };
    this.view = view;
    const changed = previous && previous.cells.length === view.cells.length ? diffCells(previous.cells, view.cells) : 'all';
    this.emit({ view, changed, statusChanged: true });
  }

  /**
   * A full recompute visits every item (tens of milliseconds at 100,000); an
   * item event changes one. Its cell is recomputed alone and sent at once;
   * the counts follow with the next (throttled) full recompute.
   */
  private patchCells(items: readonly string[]): void {
    const view = this.view;
    if (!view) return;
    const state = this.reader.state();
    const input = this.statusInput();
    let cells = view.cells;
    const changed: Array<[number, string]> = [];
    for (const item of items) {
      const index = this.indexOf(item);
      const code = index === undefined ? undefined : itemCell(state, index, input);
      if (index === undefined || code === undefined || cells[index] === code) continue;
      cells = cells.slice(0, index) + code + cells.slice(index + 1);
      changed.push([index, code]);
    }
    if (changed.length === 0) return;
    this.view = { status: view.status, cells, storeError: view.storeError };
    this.emit({ view: this.view, changed, statusChanged: false });
  }

  private indexOf(item: string): number | undefined {
    const items = this.reader.state().items;
    if (this.itemIndex?.size !== items.length) this.itemIndex = new Map(items.map((i, index) => [i.id, index]));
    return this.itemIndex.get(item);
  }

  private emit(update: ViewUpdate): void {
    for (const l of this.listeners) l.view?.(update);
  }
}

function diffCells(before: string, after: string): Array<[number, string]> {
  const changed: Array<[number, string]> = [];
  for (let i = 0; i < after.length; i++) if (before.charCodeAt(i) !== after.charCodeAt(i)) changed.push([i, after[i]!]);
  return changed;
}
