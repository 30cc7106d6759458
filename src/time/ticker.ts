import type { Clock } from './clock.js';

/**
 * Runs `tick` every `intervalMs` on the injected clock, or at once when
 * `wake()` is called (new members, a new subscriber). One tick at a time;
 * a tick that throws is reported and the loop goes on.
 */
export class Ticker {
  private stopped = new AbortController();
  private nap = new AbortController();
  private woken = false;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly intervalMs: number,
    private readonly tick: () => Promise<void> | void,
    private readonly onError: (error: unknown) => void,
  ) {}

  start(): void {
    this.loop ??= this.run();
  }

  wake(): void {
    this.woken = true;
    this.nap.abort();
  }

  /** Ends the loop after the current tick; idempotent. */
  async stop(): Promise<void> {
    this.stopped.abort();
    this.nap.abort();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.stopped.signal.aborted) {
      this.woken = false;
      try {
        await this.tick();
      } catch (error) {
        this.onError(error);
      }
      if (this.stopped.signal.aborted) return;
      if (this.woken) continue;
      this.nap = new AbortController();
      await this.clock.sleep(this.intervalMs, this.nap.signal).catch(() => {});
    }
  }
}

/** `promise`'s outcome, or `undefined` once `ms` have passed on `clock` (bounded shutdown steps). */
export async function within<T>(clock: Clock, ms: number, promise: Promise<T>): Promise<T | undefined> {
  const timer = new AbortController();
  try {
    return await Promise.race([promise, clock.sleep(ms, timer.signal).then(() => undefined)]);
  } finally {
    timer.abort();
  }
}
