import type { RequestTimeLimits } from '../store/store.js';

/**
 * How a replay node paces itself: one defaults object, derived from the
 * run's lease TTL, validated once. Everything is overridable for tests and
 * benchmarks; operators normally only set `concurrency`.
 */
export interface NodeSettings {
  /** Items worked on at once. Default 1. */
  concurrency: number;
  /** Exit once every item has a result or has failed for good. */
  exitWhenDone: boolean;
  /** How often the node record is rewritten (its heartbeat). Default ttl/3. */
  heartbeatMs: number;
  /** Others call the node dead after its record is unchanged this long. Default ttl. */
  staleAfterMs: number;
  /** How often the nodes/ listing is read to find dead peers. Default heartbeatMs. */
  peerWatchMs: number;
  /**
   * With nothing left to claim, how often to rescan results/ and leases/ for
   * released, failed or expired items. Default ttl/2 without gossip, ttl with
   * (gossip tells of releases at once).
   */
  idleScanMs: number;
  /** How often control/ is listed for pause, resume and drain. Default heartbeatMs (TTL/3): one listing per heartbeat, like the peer watch. */
  controlPollMs: number;
  /** Gossip progress at most this often. Default 1 s. */
  progressEveryMs: number;
  /** Bound on stop(): leases not released by then simply expire. Default 10 s. */
  stopTimeoutMs: number;
  /** While the store does not answer, the longest pause between two tries (capped, jittered backoff). Default min(5 s, ttl/4). */
  storeRetryMaxMs: number;
}

export function defaultNodeSettings(leaseTtlMs: number, gossip: boolean): NodeSettings {
  const heartbeatMs = Math.round(leaseTtlMs / 3);
  return {
    concurrency: 1,
    exitWhenDone: false,
    heartbeatMs,
    staleAfterMs: leaseTtlMs,
    peerWatchMs: heartbeatMs,
    idleScanMs: gossip ? leaseTtlMs : Math.round(leaseTtlMs / 2),
    controlPollMs: heartbeatMs,
    progressEveryMs: 1_000,
    stopTimeoutMs: 10_000,
    storeRetryMaxMs: Math.round(Math.min(5_000, leaseTtlMs / 4)),
  };
}

export function resolveNodeSettings(leaseTtlMs: number, gossip: boolean, overrides: Partial<NodeSettings> = {}): NodeSettings {
  const defined = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined));
  const settings = { ...defaultNodeSettings(leaseTtlMs, gossip), ...defined } as NodeSettings;
  if (!Number.isSafeInteger(settings.concurrency) || settings.concurrency < 1) {
    throw new RangeError(`concurrency must be a whole number >= 1 (got ${settings.concurrency})`);
  }
  for (const key of ['heartbeatMs', 'staleAfterMs', 'peerWatchMs', 'idleScanMs', 'controlPollMs', 'progressEveryMs', 'stopTimeoutMs', 'storeRetryMaxMs'] as const) {
    if (!(settings[key] > 0)) throw new RangeError(`${key} must be > 0 (got ${settings[key]})`);
  }
  if (!(settings.heartbeatMs < settings.staleAfterMs)) {
    throw new RangeError(`heartbeatMs (${settings.heartbeatMs}) must be below staleAfterMs (${settings.staleAfterMs})`);
  }
  return settings;
}

/**
 * How long one store request may go unanswered on a node of a run with
 * this lease TTL (issue 12: a request with no answer stalled whole nodes
 * for the 30 s socket default, longer than a 10 s TTL). A renewal is sent
 * at ttl/3 and must be confirmed by 0.8·ttl: a conditional write that times
 * out at ttl/5 and its read-back at ttl/4 still leave room for a retry.
 */
export function requestTimeLimits(leaseTtlMs: number): RequestTimeLimits {
  const clamp = (ms: number): number => Math.round(Math.min(30_000, Math.max(1_000, ms)));
  return { conditionalWriteMs: clamp(leaseTtlMs / 5), otherMs: clamp(leaseTtlMs / 4) };
}
