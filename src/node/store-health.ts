import { StoreError } from '../store/errors.js';
import type { Clock } from '../time/clock.js';
import type { IdSource } from '../util/ids.js';
import type { Logger } from '../util/logger.js';
import { messageOf } from '../util/message-of.js';

export interface StoreHealthDeps {
  clock: Clock;
  ids: IdSource;
  logger: Logger;
  /** Longest pause between two tries while the store does not answer. */
  maxDelayMs: number;
  /** First pause after a failure; doubles per failure in a row, jittered down to half. Default 250 ms. */
  baseDelayMs?: number;
}

/**
 * Whether the store answers, as one node sees it (issue 12: a node never
 * exits because the store is unavailable). A retryable store error
 * (Unavailable, WriteOutcomeUnknown: 503 SlowDown, resets, timeouts,
 * refused connections) marks the store unavailable; the next success marks
 * it available again. Each change is logged once, not every retry; the
 * node record shows `storeUnavailableSince` while it lasts. Errors that a
 * retry cannot clear (wrong credentials, a missing bucket) are not the
 * store being unavailable: `absorb` refuses them and the caller ends.
 */
export class StoreHealth {
  private since: { wall: number; monotonic: number; what: string } | undefined;
  private failuresInRow = 0;
  private readonly baseDelayMs: number;

  constructor(private readonly deps: StoreHealthDeps) {
    this.baseDelayMs = deps.baseDelayMs ?? 250;
  }

  /** ISO time (this host's wall clock, for people) since when the store has not answered; undefined while it does. */
  get unavailableSince(): string | undefined {
    return this.since && new Date(this.since.wall).toISOString();
  }

  get available(): boolean {
    return this.since === undefined;
  }

  /**
   * Takes a failure of `what`: true when it is the store being unavailable
   * (recorded, logged once per outage), false for anything else (the caller
   * rethrows or reports it).
   */
  absorb(error: unknown, what: string): boolean {
    if (!isStoreUnavailable(error)) return false;
    this.failuresInRow++;
    if (!this.since) {
      this.since = { wall: this.deps.clock.now(), monotonic: this.deps.clock.monotonic(), what };
      this.deps.logger.warn({ what, err: messageOf(error) }, 'store unavailable; work stops safely and resumes when it answers');
    } else {
      this.deps.logger.debug({ what, err: messageOf(error), failures: this.failuresInRow }, 'store still unavailable');
    }
    return true;
  }

  /** A request of the node's loop succeeded. */
  answered(): void {
    this.failuresInRow = 0;
    if (!this.since) return;
    const forMs = this.deps.clock.monotonic() - this.since.monotonic;
    this.deps.logger.info({ unavailableMs: Math.round(forMs), since: this.unavailableSince }, 'store available again');
    this.since = undefined;
  }

  /** The pause before the next try: capped exponential backoff with jitter, on the injected clock. */
  async pause(signal?: AbortSignal): Promise<void> {
    const step = Math.min(this.deps.maxDelayMs, this.baseDelayMs * 2 ** Math.max(0, this.failuresInRow - 1));
    const ms = Math.round(step * (0.5 + this.deps.ids.random() / 2));
    await this.deps.clock.sleep(ms, signal).catch(() => undefined);
  }

  /**
   * Runs `attempt` until it succeeds, pausing while the store is
   * unavailable; any other error, or `signal` aborting, ends it (the error,
   * or undefined).
   */
  async untilAnswered<T>(what: string, attempt: () => Promise<T>, signal?: AbortSignal): Promise<T | undefined> {
    for (;;) {
      if (signal?.aborted) return undefined;
      try {
        const result = await attempt();
        this.answered();
        return result;
      } catch (error) {
        if (signal?.aborted) return undefined;
        if (!this.absorb(error, what)) throw error;
      }
      await this.pause(signal);
    }
  }
}

/** A store error that trying again can clear: the store is (for now) unavailable, not misconfigured. */
export function isStoreUnavailable(error: unknown): boolean {
  return error instanceof StoreError && error.retryable;
}
