/**
 * The store's clock carried forward between responses (docs/protocol.md §4):
 * the one piece of time arithmetic that the nodes (src/node/store-clock.ts)
 * and the status readers (src/status/freshness.ts) share.
 */

/** A response's `Date` (ms since the epoch, the store's clock) and when it arrived on the reader's monotonic clock. */
export interface StoreClockSample {
  storeDate: number;
  seenAt: number;
}

/** The store's time at `nowMonotonic`: the sample's store time plus what elapsed since on the monotonic clock. */
export function storeTimeAt(sample: StoreClockSample, nowMonotonic: number): number {
  return sample.storeDate + (nowMonotonic - sample.seenAt);
}
