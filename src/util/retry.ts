import type { Clock } from '../time/clock.js';
import type { IdSource } from './ids.js';

/** Bounded retries with exponential backoff and jitter, timed by the injected Clock. */
export interface RetryPolicy {
  /** Tries per logical write, the first included. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const defaultRetryPolicy: RetryPolicy = { attempts: 4, baseDelayMs: 200, maxDelayMs: 2_000 };

export function retryPolicy(overrides: Partial<RetryPolicy> | undefined): RetryPolicy {
  return { ...defaultRetryPolicy, ...overrides };
}

/** Delay before try number `attempt + 1` (attempt is 1-based): full exponential step, jittered down to half. */
export function backoffMs(policy: RetryPolicy, attempt: number, ids: IdSource): number {
  const step = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(step * (0.5 + ids.random() / 2));
}

export async function backoff(clock: Clock, ids: IdSource, policy: RetryPolicy, attempt: number, signal?: AbortSignal): Promise<void> {
  await clock.sleep(backoffMs(policy, attempt, ids), signal);
}
