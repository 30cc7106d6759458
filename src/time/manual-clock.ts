import { abortReason, type Clock } from './clock.js';

interface Sleeper {
  wakeAt: number;
  resolve: () => void;
}

/**
 * A clock that only moves when a test calls `advance()`. Sleeps complete in
 * wake-time order as time passes them, so a test drives renewals and expiry
 * deterministically (the SlateDB MockSystemClock idea).
 */
export class ManualClock implements Clock {
  private wallMs: number;
  private monoMs = 0;
  private sleepers: Sleeper[] = [];

  constructor(startWallMs = Date.UTC(2026, 0, 1)) {
    this.wallMs = startWallMs;
  }

  now(): number {
    return this.wallMs;
  }

  monotonic(): number {
    return this.monoMs;
  }

  /** Number of sleeps currently waiting (lets a test wait until a loop parks). */
  get pendingSleeps(): number {
    return this.sleepers.length;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    return new Promise((resolve, reject) => {
      const sleeper: Sleeper = { wakeAt: this.monoMs + Math.max(0, ms), resolve: () => resolve() };
      const onAbort = (): void => {
        this.sleepers = this.sleepers.filter((s) => s !== sleeper);
        reject(abortReason(signal!));
      };
      sleeper.resolve = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.sleepers.push(sleeper);
    });
  }

  /** Moves both clocks forward, waking sleepers in order and letting each react before the next. */
  async advance(ms: number): Promise<void> {
    const target = this.monoMs + ms;
    for (;;) {
      const next = this.sleepers
        .filter((s) => s.wakeAt <= target)
        .sort((a, b) => a.wakeAt - b.wakeAt)[0];
      if (!next) break;
      this.wallMs += next.wakeAt - this.monoMs;
      this.monoMs = Math.max(this.monoMs, next.wakeAt);
      this.sleepers = this.sleepers.filter((s) => s !== next);
      next.resolve();
      await flushMicrotasks();
    }
    this.wallMs += target - this.monoMs;
    this.monoMs = target;
    await flushMicrotasks();
  }

  /** Shifts only the wall clock (a host whose clock is wrong); durations are unaffected. */
  skewWall(ms: number): void {
    this.wallMs += ms;
  }
}

async function flushMicrotasks(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}
