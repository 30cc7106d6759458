import type { Clock } from '../time/clock.js';
import { storeTimeAt, type StoreClockSample } from '../time/store-time.js';

/**
 * The store's clock, estimated between responses: the latest `Date` a
 * response carried plus the time elapsed since on our own monotonic clock.
 * Listings carry no `Date`, but their `lastModified` stamps come from the
 * store's clock, so `ageOf(lastModified)` tells how long ago the store wrote
 * an object without consulting our (possibly wrong) wall clock.
 */
export class StoreClock {
  private latest: StoreClockSample | undefined;

  constructor(private readonly clock: Pick<Clock, 'monotonic'>) {}

  /**
   * Feed every `storeDate` seen; the latest response wins. HTTP dates have
   * one-second resolution, so the estimate runs up to a second behind: ages
   * read low, never high (an object never looks expired too early).
   */
  observe(storeDate: Date, at = this.clock.monotonic()): void {
    this.latest = { storeDate: storeDate.getTime(), seenAt: at };
  }

  /** Estimated store time now; undefined before any response was seen. */
  now(): number | undefined {
    return this.latest && storeTimeAt(this.latest, this.clock.monotonic());
  }

  /** How old an object is by the store's clock; 0 when unknown (never reads as expired). */
  ageOf(lastModified: Date): number {
    const now = this.now();
    return now === undefined ? 0 : Math.max(0, now - lastModified.getTime());
  }
}
