import type { Clock } from './clock.js';

/**
 * A loop's nap that something else can cut short: `wait(ms)` resolves after
 * `ms` on the clock or at the next `poke()`, whichever comes first. A poke
 * while nobody waits is remembered, so no wake-up is ever lost.
 */
export class Wakeup {
  private poked = false;
  private nap: AbortController | undefined;

  constructor(private readonly clock: Clock) {}

  poke(): void {
    this.poked = true;
    this.nap?.abort();
  }

  async wait(ms: number): Promise<void> {
    if (this.poked) {
      this.poked = false;
      return;
    }
    const nap = new AbortController();
    this.nap = nap;
    try {
      await this.clock.sleep(Math.max(0, ms), nap.signal);
    } catch {
      // poked
    } finally {
      if (this.nap === nap) this.nap = undefined;
      this.poked = false;
    }
  }
}
