import { LeaseKeeper } from './lease-keeper.js';
import type { HeldLease, LeaseContext } from './lease.js';

/**
 * A scoped lease, in node-redlock's `using` shape: the lease is kept alive
 * while `body` runs with the keeper's signal (aborted when the lease is lost
 * or given up), and the keeper is stopped in `finally`. "Every path ends with
 * the keeper stopped" is then the structure, not a promise each path keeps,
 * a throw included.
 *
 * The body says how the lease ends by calling `keeper.stop(release)` itself
 * (`done`, `released`, `failed`); the `finally` only makes sure. Its own
 * stop asks for no release, so a body that returned or threw without
 * deciding leaves the lease to expire: the safe end when we do not know
 * whether the work is finished. `stop()` returns the first call's promise,
 * so a body's decision is never overwritten.
 */
export async function withLease<T>(keeper: LeaseKeeper, body: (signal: AbortSignal, keeper: LeaseKeeper) => Promise<T>): Promise<T> {
  keeper.start();
  try {
    return await body(keeper.signal, keeper);
  } finally {
    await keeper.stop();
  }
}

/**
 * Gives back at once a lease that nobody will work on (a claim that won as
 * the node stopped): through a keeper, so the release is logged and judged
 * like every other end of a lease.
 */
export function giveBackLease(ctx: LeaseContext, lease: HeldLease, reason: string): Promise<unknown> {
  return new LeaseKeeper(ctx, lease).stop({ state: 'released', reason });
}
