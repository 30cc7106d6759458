import { randomBytes } from 'node:crypto';
import { monotonicFactory, ulid } from 'ulid';

/**
 * Randomness is injected like time: nonces, node ids and jitter come from an
 * IdSource so tests can make them deterministic.
 */
export interface IdSource {
  /** A new ULID (sortable by creation time, unique). */
  ulid(): string;
  /** A float in [0, 1). */
  random(): number;
}

export const systemIds: IdSource = {
  ulid: monotonicFactory(),
  random: () => randomBytes(4).readUInt32BE(0) / 2 ** 32,
};

/** Deterministic ids for tests: a seeded PRNG (mulberry32) drives both methods. */
export function seededIds(seed: number, nowMs: () => number = () => Date.UTC(2026, 0, 1)): IdSource {
  let state = seed >>> 0;
  const random = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { random, ulid: () => ulid(nowMs(), random) };
}
