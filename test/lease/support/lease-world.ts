import { claimLease } from '../../../src/lease/claim.js';
import { ExpiryJudge } from '../../../src/lease/expiry.js';
import type { HeldLease } from '../../../src/lease/lease.js';
import type { AcquireContext } from '../../../src/lease/take-over.js';
import { MemoryStore } from '../../../src/store/memory.js';
import type { Store } from '../../../src/store/store.js';
import type { Clock } from '../../../src/time/clock.js';
import { ManualClock } from '../../../src/time/manual-clock.js';
import { seededIds } from '../../../src/util/ids.js';
import { FaultyStore } from './faulty-store.js';

export const RUN = 'lease-test';
export const ITEM = '0000000000-0000001000';
export const TTL = 30_000;

/**
 * A shared memory store with its own clock (the store's clock) and a node
 * clock shared by the simulated nodes; `advance` moves both, as real time
 * would. Skewing the node clock's wall time leaves the store's alone.
 */
export class LeaseWorld {
  readonly storeClock = new ManualClock();
  readonly clock = new ManualClock();
  readonly backend: Store;
  readonly store: FaultyStore;
  private seed = 1;

  /** `latencyMs`: the memory store sleeps this long (store clock) before each request takes effect. */
  constructor(options: { latencyMs?: (kind: string) => number } = {}) {
    this.backend = new MemoryStore({ clock: this.storeClock, ...(options.latencyMs ? { latencyMs: options.latencyMs } : {}) });
    this.store = new FaultyStore(this.backend);
  }

  /**
   * Moves both clocks in steps of at most `stepMs`, letting pending I/O
   * promises settle between steps (a renewal sent at t completes before the
   * clock reaches t + stepMs, as a fast store would).
   */
  async advance(ms: number, stepMs = 250): Promise<void> {
    for (let left = ms; left > 0; left -= stepMs) {
      const step = Math.min(stepMs, left);
      await this.storeClock.advance(step);
      await this.clock.advance(step);
      await settle();
    }
  }

  node(node: string, options: { clock?: Clock; store?: Store; ttlMs?: number } = {}): AcquireContext {
    const clock = options.clock ?? this.clock;
    return {
      store: options.store ?? this.store,
      clock,
      ids: seededIds(this.seed++, () => clock.now()),
      run: RUN,
      node,
      ttlMs: options.ttlMs ?? TTL,
      judge: new ExpiryJudge(clock, { fallbackTtlMs: TTL }),
      retry: { attempts: 4, baseDelayMs: 100, maxDelayMs: 400 },
    };
  }
}

/** The node clock with its wall time shifted; monotonic time and sleeps are the shared ones. */
export function skewedClock(base: ManualClock, offsetMs: number): Clock {
  return {
    now: () => base.now() + offsetMs,
    monotonic: () => base.monotonic(),
    sleep: (ms, signal) => base.sleep(ms, signal),
  };
}

/** Moves time in small steps until `promise` settles (retries back off on the manual clock). */
export async function drive<T>(world: LeaseWorld, promise: Promise<T>, stepMs = 50, maxSteps = 400): Promise<T> {
  let settled = false;
  promise.then(() => (settled = true), () => (settled = true));
  await Promise.resolve();
  for (let i = 0; i < maxSteps && !settled; i++) await world.advance(stepMs);
  return promise;
}

/** Lets every pending promise chain run (one macrotask turn). */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** A node that has just claimed ITEM: its context and lease. */
export async function claimed(world: LeaseWorld, node: string, options: Parameters<LeaseWorld['node']>[1] = {}): Promise<{ ctx: AcquireContext; lease: HeldLease }> {
  const ctx = world.node(node, options);
  const won = await claimLease(ctx, ITEM);
  if (won.kind !== 'won') throw new Error(`setup: ${node} did not win the claim (${won.kind})`);
  return { ctx, lease: won.lease };
}
