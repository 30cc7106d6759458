import { EventEmitter } from 'node:events';
import { LeaseKeeperStoppedError, LeaseLostError } from './errors.js';
import type { HeldLease, LeaseContext } from './lease.js';
import type { LeaseRecord } from '../records/lease-record.js';
import { releaseLease, type ReleaseOptions } from './release.js';
import { renewLease } from './renew.js';

export interface LeaseKeeperOptions {
  /** Renew this long after the last confirmed write was sent. Default ttl/3. */
  renewEveryMs?: number;
  /**
   * Give the lease up (abort `signal`) when no write has been confirmed for
   * this long after it was sent, on this node's monotonic clock. Must be
   * below the TTL, so work stops before any observer may judge the lease
   * expired. Default ttl*0.8.
   */
  abortAfterMs?: number;
  /** Pause between renewal tries after one failed without a definite loss. Default ttl/10. */
  retryEveryMs?: number;
  /**
   * How long stop() waits for an in-flight renewal before giving up on the
   * release (the lease then expires). Keeps stop() bounded when the store
   * hangs. Default min(5 s, ttl/2).
   */
  stopWaitMs?: number;
}

export interface LeaseKeeperEvents {
  'lease:renewed': [lease: HeldLease];
  'lease:lost': [error: LeaseLostError];
}

/**
 * Keeps one held lease alive while its item is worked on (the idea of bullmq's
 * lock-manager, with the injected Clock instead of timers).
 *
 * `signal` is what the worker hands the runner: it aborts with a
 * LeaseLostError when a renewal definitively loses (412 and someone else's
 * nonce, or the object deleted) or when renewals kept failing until
 * `abortAfterMs` passed on this node's own monotonic clock, which is before
 * the TTL, so before anyone can take the lease over. It aborts with a
 * LeaseKeeperStoppedError when the owner calls stop(). Invariant: while
 * `signal` is not aborted and `held` is true, no other node can hold the lease.
 *
 * start() and stop() are idempotent; stop() returns the same promise each time.
 */
export class LeaseKeeper extends EventEmitter<LeaseKeeperEvents> {
  private readonly work = new AbortController();
  private readonly loops = new AbortController();
  private current: HeldLease;
  private running: Promise<unknown> | undefined;
  private stopping: Promise<LeaseRecord | undefined> | undefined;
  /** A renewal landed after the work was aborted by a loss: the lease is ours again, for stop() to release. */
  private recovered = false;
  /** What stop() was asked to write, once it gave up waiting for a hanging renewal (that renewal's late success releases it). */
  private abandoned: { release: ReleaseOptions | undefined } | undefined;
  /** Renewals failed in a row without a definite loss (one warning per streak, not one per try). */
  private failedRenewals = 0;
  private readonly renewEveryMs: number;
  private readonly abortAfterMs: number;
  private readonly retryEveryMs: number;
  private readonly stopWaitMs: number;

  constructor(
    private readonly ctx: LeaseContext,
    lease: HeldLease,
    options: LeaseKeeperOptions = {},
  ) {
    super();
    this.current = lease;
    const ttl = lease.record.ttlMs;
    this.renewEveryMs = options.renewEveryMs ?? ttl / 3;
    this.abortAfterMs = options.abortAfterMs ?? ttl * 0.8;
    this.retryEveryMs = options.retryEveryMs ?? ttl / 10;
    this.stopWaitMs = options.stopWaitMs ?? Math.min(5_000, ttl / 2);
    if (!(this.abortAfterMs < ttl) || !(this.renewEveryMs < this.abortAfterMs) || !(this.retryEveryMs > 0)) {
      throw new RangeError(`lease keeper needs retryEvery > 0 and renewEvery < abortAfter < ttl (${ttl} ms)`);
    }
  }

  /** Aborted when the lease is lost or the keeper stopped; pass it to the runner. */
  get signal(): AbortSignal {
    return this.work.signal;
  }

  /** The latest confirmed lease (ETag, epoch, record). */
  get lease(): HeldLease {
    return this.current;
  }

  /** True while the lease is ours by this node's own clock: check it before any write that relies on holding it. */
  get held(): boolean {
    return !this.work.signal.aborted && this.ctx.clock.monotonic() - this.current.sentAt < this.abortAfterMs;
  }

  start(): void {
    if (this.running || this.stopping) return;
    // The history checker's contract (test/support/history.ts): `lease: held` opens this node's belief, `lease: ended` closes it.
    this.ctx.logger?.debug({ item: this.current.item, epoch: this.current.record.epoch, lease: 'held' }, 'lease held');
    this.running = Promise.all([this.renewLoop(), this.watchdog()]).catch((error: unknown) => {
      // Only a throwing event listener gets here; the loops themselves catch everything.
      this.ctx.logger?.error({ item: this.current.item, err: error }, 'lease keeper loop failed');
      this.lose(new LeaseLostError(this.current.item, 'deadline', 'keeper failed', { cause: error }));
    });
  }

  /**
   * Stops renewing and aborts `signal` (work stops before the lease is given
   * up). With `release`, writes the lease back as released/done/failed so
   * others may act at once; without, the lease simply expires.
   * @returns the record written by the release, or undefined (none asked, or
   *   the lease was already lost, or the release failed: logged).
   */
  stop(release?: ReleaseOptions): Promise<LeaseRecord | undefined> {
    this.stopping ??= this.doStop(release);
    return this.stopping;
  }

  private async doStop(release: ReleaseOptions | undefined): Promise<LeaseRecord | undefined> {
    const wasLost = this.work.signal.aborted;
    if (!wasLost) {
      this.work.abort(new LeaseKeeperStoppedError(this.current.item));
      this.ctx.logger?.debug({ item: this.current.item, epoch: this.current.record.epoch, lease: 'ended', why: 'stopped' }, 'lease keeper stopped');
    }
    this.loops.abort();
    // An in-flight renewal settles first, so we release the ETag it produced.
    if (!(await this.settled())) {
      // If that renewal lands after all, giveBack() writes the release we were asked for: no lease is left held.
      this.abandoned = { release };
      this.ctx.logger?.warn({ item: this.current.item }, 'lease renewal still in flight at stop; released if it lands, else the lease expires');
      return undefined;
    }
    if (!release || (wasLost && !this.recovered)) return undefined;
    try {
      return await releaseLease(this.ctx, this.current, release);
    } catch (error) {
      this.ctx.logger?.warn({ item: this.current.item, err: error }, 'lease release failed; it will expire instead');
      return undefined;
    }
  }

  /** Waits up to stopWaitMs for the loops to end; false when they did not (a store request hangs). */
  private async settled(): Promise<boolean> {
    if (!this.running) return true;
    const timer = new AbortController();
    const timeout = this.ctx.clock.sleep(this.stopWaitMs, timer.signal).then(
      () => false,
      () => true,
    );
    const done = this.running.then(() => true);
    try {
      return await Promise.race([done, timeout]);
    } finally {
      timer.abort();
    }
  }

  private lose(error: LeaseLostError): void {
    if (this.work.signal.aborted) return;
    this.ctx.logger?.warn({ item: error.item, epoch: this.current.record.epoch, reason: error.reason, lease: 'ended', why: error.reason }, error.message);
    this.work.abort(error);
    this.loops.abort();
    this.emit('lease:lost', error);
  }

  private overdue(): boolean {
    return this.ctx.clock.monotonic() - this.current.sentAt >= this.abortAfterMs;
  }

  private deadlineError(): LeaseLostError {
    return new LeaseLostError(this.current.item, 'deadline', `no renewal confirmed within ${this.abortAfterMs} ms`);
  }

  /** Aborts the work at the local deadline even while a renewal request hangs. */
  private async watchdog(): Promise<void> {
    const { clock } = this.ctx;
    while (!this.loops.signal.aborted) {
      const remaining = this.current.sentAt + this.abortAfterMs - clock.monotonic();
      if (remaining <= 0) return this.lose(this.deadlineError());
      try {
        await clock.sleep(remaining, this.loops.signal);
      } catch {
        return;
      }
    }
  }

  private async renewLoop(): Promise<void> {
    const { clock } = this.ctx;
    let nextAt = this.current.sentAt + this.renewEveryMs;
    while (!this.loops.signal.aborted) {
      try {
        await clock.sleep(nextAt - clock.monotonic(), this.loops.signal);
      } catch {
        return;
      }
      // After a freeze (SIGSTOP, a long GC) the deadline may be gone: give up rather than renew late.
      if (this.overdue()) return this.lose(this.deadlineError());
      try {
        const renewed = await renewLease(this.ctx, this.current, this.loops.signal);
        if (this.work.signal.aborted) return this.giveBack(renewed);
        this.current = renewed;
        nextAt = renewed.sentAt + this.renewEveryMs;
        if (this.failedRenewals > 0) this.ctx.logger?.info({ item: renewed.item, failed: this.failedRenewals }, 'lease renewed again');
        this.failedRenewals = 0;
        this.emit('lease:renewed', renewed);
      } catch (error) {
        if (error instanceof LeaseLostError) return this.lose(error);
        if (this.loops.signal.aborted) return;
        // One warning when renewals start failing; the retries of the streak go to debug.
        const level = this.failedRenewals++ === 0 ? 'warn' : 'debug';
        this.ctx.logger?.[level]({ item: this.current.item, err: errorText(error) }, 'lease renewal failed; retrying until the deadline');
        nextAt = clock.monotonic() + this.retryEveryMs;
      }
    }
  }

  /**
   * A renewal landed after the work was already aborted (deadline passed while
   * it was in flight, or stop() was called): the lease is ours again but
   * nobody works on it. Unless stop() will release it, release it now so
   * another node need not wait for it to expire.
   */
  private async giveBack(renewed: HeldLease): Promise<void> {
    this.current = renewed;
    if (this.stopping && !this.abandoned) {
      this.recovered = true; // doStop releases `current`, as its caller asked, once this loop ends
      return;
    }
    // Nobody else will: the keeper gave up (deadline), or stop() stopped waiting for this very renewal.
    const release = this.abandoned?.release ?? { reason: 'lease-keeper gave up' };
    try {
      await releaseLease(this.ctx, renewed, release);
      this.ctx.logger?.info({ item: renewed.item, state: release.state ?? 'released' }, 'a late renewal landed after the keeper gave up; lease released');
    } catch (error) {
      this.ctx.logger?.debug({ item: renewed.item, err: error }, 'could not give back a late renewal');
    }
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
