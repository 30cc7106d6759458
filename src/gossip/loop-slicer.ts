import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Clock } from '../time/clock.js';

/**
 * Cuts a long run of work into slices with an event-loop turn between them.
 *
 * libp2p hands a peer's buffered RPCs over as an async iterator: while bytes
 * are buffered, each next RPC arrives in a microtask, and timers (the lease
 * keeper's renewals among them) do not run until the whole backlog is done.
 * A flood of thousands of messages, however cheaply each is dropped, then
 * holds the loop for seconds (issue 19: leases lost at their deadline).
 * Awaiting `pause()` before each RPC, with gossipsub told to await its RPC
 * handler, makes the reader give the loop a turn every `sliceMs` of work;
 * meanwhile the sender's stream fills and TCP pushes back on it.
 */
export class LoopSlicer {
  private sliceStart = 0;
  /** True once the loop has turned since the current slice began (a setImmediate ran). */
  private turned = true;

  constructor(private readonly clock: Pick<Clock, 'monotonic'>, private readonly sliceMs = 10) {}

  /** Undefined while the current slice lasts; otherwise a promise that resolves after the loop had a turn. */
  pause(): Promise<void> | undefined {
    if (this.turned) {
      this.startSlice();
      return undefined;
    }
    if (this.clock.monotonic() - this.sliceStart < this.sliceMs) return undefined;
    // The timers phase comes before the next check phase, so two turns from here timers have run.
    return nextTurn().then(() => {
      this.startSlice();
    });
  }

  private startSlice(): void {
    this.turned = false;
    this.sliceStart = this.clock.monotonic();
    void nextTurn().then(() => {
      this.turned = true;
    });
  }
}
