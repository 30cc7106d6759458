/**
 * Time is injected everywhere (design rule 7): lease expiry, renewal and
 * scheduling are tested with a ManualClock instead of real sleeps.
 *
 * `now()` is the wall clock and is only ever used for human-readable
 * timestamps; decisions about expiry use `monotonic()`, which no NTP step or
 * operator `date -s` can move.
 */
export interface Clock {
  /** Wall-clock milliseconds since the epoch (for display and records only). */
  now(): number;
  /** Monotonic milliseconds from an arbitrary origin (for every duration). */
  monotonic(): number;
  /** Resolves after `ms` of this clock's time; rejects with the signal's reason when aborted. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** The reason used when a sleep is cut short by its AbortSignal. */
export function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('The operation was aborted', 'AbortError');
}
