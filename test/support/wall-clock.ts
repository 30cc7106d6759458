// The one place test code reaches the real clock and real randomness.
//
// In-process tests inject ManualClock (src/time) and never touch these. Multi-process tests, real
// sockets, child processes and external services run on the wall clock whether we like it or not:
// their deadlines, timeouts and polling loops must be real. Keeping every such use behind these
// helpers makes each one visible (eslint bans raw clocks/timers/randomness in test/ outside
// test/support/) and easy to audit.
import { performance } from 'node:perf_hooks';
import { setTimeout as sleepTimer } from 'node:timers/promises';

/** Wall-clock milliseconds since the epoch (Date.now()). */
export function wallNow(): number {
  return Date.now();
}

/** Monotonic milliseconds (performance.now()), for measuring elapsed real time. */
export function wallMonotonic(): number {
  return performance.now();
}

/** The current wall-clock date (new Date()). */
export function wallDate(): Date {
  return new Date();
}

/** Resolves after `ms` of real time; rejects with an AbortError if `signal` aborts. */
export async function wallSleep(ms: number, signal?: AbortSignal): Promise<void> {
  await sleepTimer(Math.max(0, ms), undefined, signal ? { signal } : undefined);
}

/** A real one-shot timer; the handle works with clearTimeout and .unref(). */
export function wallTimer(fn: () => void, ms: number): NodeJS.Timeout {
  return setTimeout(fn, ms);
}

/** A real repeating timer; the handle works with clearInterval and .unref(). */
export function wallInterval(fn: () => void, ms: number): NodeJS.Timeout {
  return setInterval(fn, ms);
}

/** Non-deterministic randomness in [0, 1) (Math.random()), e.g. for jittered fake latencies. */
export function testRandom(): number {
  return Math.random();
}
