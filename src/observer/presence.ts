/**
 * Keeps this observer's presence record (observer-record.ts) fresh: written
 * at start and every `heartbeatMs` (overwrite: only this observer writes
 * it), deleted on stop, so nodes admit the observer's gossip peer while it
 * runs and forget it when it leaves. A failed write is logged and retried
 * at the next beat; the view does not depend on it.
 */
import { runKeys } from '../layout/keys.js';
import { overwrite, type Store } from '../store/store.js';
import type { Clock } from '../time/clock.js';
import { Ticker } from '../time/ticker.js';
import type { Logger } from '../util/logger.js';
import { encodeObserverRecord, type ObserverRecord } from '../records/observer-record.js';

export interface PresenceOptions {
  store: Pick<Store, 'put' | 'delete'>;
  clock: Clock;
  logger: Logger;
  run: string;
  observer: string;
  peerId: string;
  /** Read at every beat: listen addresses can change after start. */
  addrs: () => string[];
  heartbeatMs: number;
  staleAfterMs: number;
  host: string;
  version: string;
}

export class Presence {
  private seq = 0;
  private readonly startedAt: string;
  private readonly ticker: Ticker;
  private stopping: Promise<void> | undefined;

  constructor(private readonly options: PresenceOptions) {
    this.startedAt = new Date(options.clock.now()).toISOString();
    this.ticker = new Ticker(options.clock, options.heartbeatMs, () => this.beat(), (error) =>
      options.logger.warn({ run: options.run, err: error }, 'observer presence record write failed; retrying'),
    );
  }

  get key(): string {
    return runKeys(this.options.run).observer(this.options.observer);
  }

  start(): void {
    if (!this.stopping) this.ticker.start();
  }

  /** Stops beating and deletes the record; idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await this.ticker.stop();
      await this.options.store.delete(this.key).catch((error) =>
        this.options.logger.warn({ err: error, key: this.key }, 'could not delete the observer presence record; it goes stale by itself'),
      );
    })();
    return this.stopping;
  }

  record(): ObserverRecord {
    const o = this.options;
    return {
      schema: 'replay/observer/v1',
      run: o.run,
      observer: o.observer,
      peerId: o.peerId,
      addrs: o.addrs(),
      heartbeatMs: o.heartbeatMs,
      staleAfterMs: o.staleAfterMs,
      seq: this.seq,
      host: o.host,
      version: o.version,
      startedAt: this.startedAt,
      heartbeatAt: new Date(o.clock.now()).toISOString(),
    };
  }

  private async beat(): Promise<void> {
    this.seq += 1;
    await this.options.store.put(this.key, encodeObserverRecord(this.record()), overwrite);
  }
}
