/**
 * How long a reader lets an object's own word keep it alive (issue 19,
 * "self-declared timeouts"). A lease's `ttlMs` and a node or observer
 * record's `staleAfterMs` are written by their holder, and only a
 * conforming holder writes the run's values. A foreign or broken writer can
 * write anything JSON can hold: `1e15`, or `1e400`, which JSON.parse turns
 * into Infinity. Trusted as-is, one such object blocks its item (or keeps a
 * dead node "working") forever and `--exit-when-done` never fires.
 *
 * So every reader caps the claimed value at MAX_TTL_FACTOR times the run's
 * lease TTL (from the manifest), and reports the object. Smaller values are
 * used as written: a short TTL only makes the object expire sooner, which a
 * conforming holder never writes and a forged object cannot exploit (taking
 * over a forged lease harms nobody). The factor leaves room for a node
 * configured with a longer stale-after than the default (tests and benchmarks
 * set it up to a few TTLs) while bounding the damage to ten TTLs.
 */
export const MAX_TTL_FACTOR = 10;

export interface BoundedTtl {
  /** What the reader uses. */
  ms: number;
  /** Set when the object's own value was not used: what it said, for the report. */
  excessive?: number;
}

/**
 * The TTL (or stale-after) a reader applies to an object that claims
 * `claimed` in a run whose lease TTL is `runTtlMs`. `claimed` undefined
 * (an unreadable object, or a record without the field): the run's TTL.
 */
export function boundTtl(claimed: number | undefined, runTtlMs: number): BoundedTtl {
  if (claimed === undefined) return { ms: runTtlMs };
  const max = MAX_TTL_FACTOR * runTtlMs;
  if (Number.isFinite(claimed) && claimed > 0 && claimed <= max) return { ms: claimed };
  // Too long (Infinity included) is capped; nonsense (NaN, zero, negative) gets the run's own TTL.
  return { ms: claimed > max ? max : runTtlMs, excessive: claimed };
}

/** The one-line report for an object whose claimed timeout was capped. */
export function excessiveTtlMessage(key: string, field: string, claimed: number, used: number): string {
  return `${key} claims ${field} ${String(claimed)}, beyond what readers accept (at most ${MAX_TTL_FACTOR} x the run's lease TTL); judged with ${used} ms instead (fix or delete the object)`;
}
