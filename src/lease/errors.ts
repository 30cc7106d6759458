/**
 * Lease outcomes that are errors. Losing a claim race is not an error (claim
 * returns it); losing a lease you held is.
 */

export type LeaseLossReason =
  /** Another write replaced ours (renewal or release answered 412 and the read-back shows someone else's nonce). */
  | 'taken'
  /** The lease object is gone (an operator deleted it). */
  | 'missing'
  /** Renewals kept failing and the local deadline passed: we stop before anyone may take over. */
  | 'deadline';

/** The lease is no longer ours; work on the item must stop. */
export class LeaseLostError extends Error {
  override readonly name = 'LeaseLost';
  constructor(
    readonly item: string,
    readonly reason: LeaseLossReason,
    detail?: string,
    options?: { cause?: unknown },
  ) {
    super(`lease on ${item} lost (${reason})${detail ? `: ${detail}` : ''}`, options);
  }
}

/** The LeaseKeeper was stopped by its owner; used as the abort reason of its signal. */
export class LeaseKeeperStoppedError extends Error {
  override readonly name = 'LeaseKeeperStopped';
  constructor(readonly item: string) {
    super(`lease keeper for ${item} stopped`);
  }
}
