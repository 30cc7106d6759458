import { performance } from 'node:perf_hooks';
import { setTimeout as sleepTimer } from 'node:timers/promises';
import type { Clock } from './clock.js';

/** The real clock; the only place in src/ allowed to read Date.now. */
export class SystemClock implements Clock {
  /** `offsetMs` simulates a host whose wall clock is wrong (tests of clock skew). */
  constructor(private readonly offsetMs = 0) {}

  now(): number {
    return Date.now() + this.offsetMs;
  }

  monotonic(): number {
    return performance.now();
  }

  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    await sleepTimer(Math.max(0, ms), undefined, signal ? { signal } : undefined);
  }
}

export const systemClock: Clock = new SystemClock();
