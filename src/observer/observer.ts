/**
 * The observer: a live view of one run (`--run`) or of every run in the
 * store, read-only. Runs are found with one cheap listing (listRuns) at
 * start and every `runsEveryMs`; each run gets a LiveRun and, when gossip is
 * on, its own gossip node and presence record (run-gossip.ts). Start and
 * stop it at any time: it holds nothing anyone else needs. A failed
 * listing is kept (`storeError()`, shown on the run list) and retried with
 * backoff; the runs found before stay listed.
 */
import type { GossipCounters } from '../gossip/gossip.js';
import { listRuns } from '../manifest/list-runs.js';
import type { Store } from '../store/store.js';
import type { Clock } from '../time/clock.js';
import { Ticker } from '../time/ticker.js';
import type { Logger } from '../util/logger.js';
import { LiveRun, type LiveRunOptions } from './live-run.js';
import { StoreTrouble, type StoreErrorInfo } from './store-trouble.js';

export interface RunAttachment {
  stop(): Promise<void>;
  /** Gossip counters for the metrics, when the attachment is gossip. */
  counters?(): GossipCounters;
}

export interface ObserverOptions {
  store: Store;
  clock: Clock;
  logger: Logger;
  /** This observer's id (its presence records, its gossip node name). */
  observer: string;
  /** Only these runs; default: every run in the store, including ones published later. */
  runs?: string[];
  runsEveryMs?: number;
  /** Called for each run once its LiveRun exists (gossip and presence); its stop() is called on stop. */
  attach?: (live: LiveRun) => Promise<RunAttachment | undefined>;
  live?: Partial<Pick<LiveRunOptions, 'resyncMs' | 'nodesMs' | 'throttleMs' | 'listLimit' | 'concurrency'>>;
}

export interface RunEntry {
  run: string;
  live?: LiveRun;
  /** Why the run is listed without a live view (no manifest...). */
  problem?: string;
}

export class Observer {
  private readonly entries = new Map<string, RunEntry>();
  private readonly attachments = new Map<string, Promise<RunAttachment | undefined>>();
  private readonly attached = new Map<string, RunAttachment>();
  private readonly discovery: Ticker;
  private readonly trouble: StoreTrouble;
  private readonly halt = new AbortController();
  private started = false;
  private stopping: Promise<void> | undefined;

  constructor(private readonly options: ObserverOptions) {
    const runsEveryMs = options.runsEveryMs ?? 30_000;
    this.discovery = new Ticker(options.clock, runsEveryMs, () => this.discover(), (error) =>
      options.logger.warn({ err: error }, 'listing the runs failed; retrying'),
    );
    this.trouble = new StoreTrouble({
      clock: options.clock, logger: options.logger, context: {}, maxDelayMs: runsEveryMs, signal: this.halt.signal, retry: () => this.discovery.wake(),
    });
  }

  /** Starts watching; the first views load in the background. Idempotent. */
  start(): void {
    if (this.started) return;
    this.started = true;
    if (this.options.runs) for (const run of this.options.runs) this.watch(run);
    else this.discovery.start();
  }

  /** Stops every run's loops, gossip and presence (its record is deleted); idempotent and bounded by those steps. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.halt.abort();
      await this.discovery.stop();
      await Promise.all([...this.entries.values()].map((e) => e.live?.stop()));
      await Promise.all([...this.attachments.values()].map(async (a) => (await a.catch(() => undefined))?.stop()));
    })();
    return this.stopping;
  }

  runs(): RunEntry[] {
    return [...this.entries.values()].sort((a, b) => (a.run < b.run ? -1 : a.run > b.run ? 1 : 0));
  }

  /** Why the runs could not be listed, while they cannot (never set with `runs` given: nothing is listed then). */
  storeError(): StoreErrorInfo | null {
    return this.trouble.info();
  }

  get(run: string): LiveRun | undefined {
    return this.entries.get(run)?.live;
  }

  /** The run's attachment (gossip and presence), once it started. */
  attachment(run: string): Promise<RunAttachment | undefined> | undefined {
    return this.attachments.get(run);
  }

  /** The run's gossip counters, once its gossip is up. */
  gossipCounters(run: string): GossipCounters | undefined {
    return this.attached.get(run)?.counters?.();
  }

  /** Resolves when every run known now has finished its first load. */
  async loaded(): Promise<void> {
    await Promise.all([...this.entries.values()].map((e) => e.live?.loaded()));
  }

  private async discover(): Promise<void> {
    let listings;
    try {
      listings = await listRuns(this.options.store);
    } catch (error) {
      this.trouble.failed(error, 'listing the runs');
      return;
    }
    this.trouble.succeeded();
    for (const listing of listings) {
      if (listing.manifest) this.watch(listing.run);
      else if (!this.entries.get(listing.run)?.live) this.entries.set(listing.run, { run: listing.run, problem: listing.problem ?? 'no manifest' });
    }
  }

  private watch(run: string): void {
    if (this.entries.get(run)?.live || this.stopping) return;
    const live = new LiveRun({ ...this.options.live, store: this.options.store, clock: this.options.clock, logger: this.options.logger, run, observer: this.options.observer });
    this.entries.set(run, { run, live });
    live.start();
    if (this.options.attach) {
      const attaching = this.options.attach(live).then(
        (attachment) => {
          if (attachment) this.attached.set(run, attachment);
          return attachment;
        },
        (error: unknown) => {
          this.options.logger.warn({ run, err: error }, 'observer gossip could not start for this run; the view stays live from the store alone');
          return undefined;
        },
      );
      this.attachments.set(run, attaching);
    }
  }
}
