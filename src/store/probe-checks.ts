import { AlreadyExistsError, NotSupportedError, type StoreError } from './errors.js';
import type { ProbeRequests, ProbeWrite } from './probe-retry.js';
import { create, overwrite, update } from './store.js';

/**
 * The checks of the capability probe (probe.ts), one function each. Each
 * works on keys under its own probe directory and returns whether the store
 * behaved as the lease protocol needs, with a detail for the table.
 *
 * A check fails only on evidence: a second create that won, a stale
 * compare-and-swap accepted, a compare-and-swap that created a missing key,
 * a refused current-ETag compare-and-swap confirmed by reading back, a body
 * that shows the wrong write landed. Transient errors are retried and
 * ambiguous writes resolved by reading back (probe-retry.ts); a check throws
 * only when the store cannot be used at all (configuration) or stayed
 * unavailable (ProbeUnavailableError).
 */
export interface CheckOutcome {
  ok: boolean;
  detail: string;
}

export type ProbeCheckName =
  | 'create-if-absent'
  | 'concurrent-creates'
  | 'cas-current-etag'
  | 'cas-stale-etag'
  | 'cas-missing-key'
  | 'etag-quoting'
  | 'store-clock'
  | 'latency'
  | 'cleanup';

/** Measured on Ceph RGW 16: a versioned bucket lets every create win and refuses every If-Match. */
export const VERSIONING_HINT = 'on Ceph RGW a bucket with versioning enabled does this: use an unversioned bucket';

/** A second create of an existing key must be refused, and leave the first body. */
export async function checkCreateIfAbsent(io: ProbeRequests, dir: string): Promise<CheckOutcome> {
  const key = `${dir}create`;
  const first = await io.write(key, 'first', create);
  if (!first.landed) return { ok: false, detail: `the create of a fresh key was refused (${describe(first.refusal)})` };
  const second = await io.write(key, 'second', create);
  if (second.landed) return { ok: false, detail: `a create of an existing key succeeded: the store ignores If-None-Match; ${VERSIONING_HINT}` };
  if (!(second.refusal instanceof AlreadyExistsError)) return { ok: false, detail: `the second create was refused for another reason (${describe(second.refusal)})` };
  const body = (await io.read(key))?.body;
  return body === 'first'
    ? { ok: true, detail: 'a second create of the key was refused (AlreadyExists)' }
    : { ok: false, detail: `the second create was refused but the body changed to ${JSON.stringify(body ?? null)}` };
}

/** `n` creates of one key at once: exactly one may win, and the stored body must be the winner's. */
export async function checkConcurrentCreates(io: ProbeRequests, dir: string, n: number): Promise<CheckOutcome> {
  const key = `${dir}race`;
  const outcomes = await settleAll(Array.from({ length: n }, (_, i) => io.write(key, `contender ${i}`, create)));
  const body = (await io.read(key))?.body;
  const winners = outcomes.flatMap((o, i) => (o.landed ? [i] : []));
  const read = outcomes.filter((o) => o.resolvedByReading).length;
  // "ambiguous": answers that were resolved by reading the body back.
  const tally = `${winners.length} won, ${n - winners.length} refused, ${read} ambiguous`;
  if (winners.length > 1) {
    return { ok: false, detail: `${winners.length} of ${n} concurrent creates succeeded (${tally}): the store ignores If-None-Match; ${VERSIONING_HINT}` };
  }
  if (winners.length === 0 || body !== `contender ${winners[0]}`) {
    return { ok: false, detail: `${n} concurrent creates: ${tally}, but the stored body is ${JSON.stringify(body ?? null)}` };
  }
  return { ok: true, detail: `${n} concurrent creates: exactly one winner (${tally})` };
}

/** What the three compare-and-swap checks share: one object, and the ETag of its first version. */
export interface CasState {
  key: string;
  firstEtag?: string;
  /** The current-ETag write landed, so `firstEtag` is stale. */
  swapped?: boolean;
}

/** A compare-and-swap with the current ETag must be accepted (and give a new ETag). */
export async function checkCasCurrentEtag(io: ProbeRequests, state: CasState): Promise<CheckOutcome> {
  const v1 = await io.write(state.key, 'v1', create);
  if (!v1.landed) return { ok: false, detail: `the create of a fresh key was refused (${describe(v1.refusal)})` };
  state.firstEtag = v1.etag;
  const v2 = await io.write(state.key, 'v2', update(v1.etag));
  if (v2.landed) {
    state.swapped = true;
    return v2.etag !== v1.etag
      ? { ok: true, detail: 'a write with the current ETag was accepted' }
      : { ok: false, detail: 'the write with the current ETag kept the old ETag' };
  }
  if (v2.refusal instanceof NotSupportedError) return { ok: false, detail: `${v2.refusal.message}; ${VERSIONING_HINT}` };
  // Confirm by reading back: the refusal counts only if the object is still the version whose ETag we sent.
  const now = await io.read(state.key);
  if (now?.body === 'v1' && now.etag === v1.etag) {
    return { ok: false, detail: `a write with the current ETag was refused (${v2.refusal.name}) and the object is unchanged: compare-and-swap cannot work; ${VERSIONING_HINT}` };
  }
  const seen = now ? `${JSON.stringify(now.body)} with ETag ${now.etag} (the create answered ETag ${v1.etag})` : 'missing';
  return { ok: false, detail: `a write with the current ETag was refused (${v2.refusal.name}), and the object now reads ${seen}` };
}

/** A compare-and-swap with a stale ETag must be refused. */
export async function checkCasStaleEtag(io: ProbeRequests, state: CasState): Promise<CheckOutcome> {
  const stale = state.firstEtag;
  if (stale === undefined) return { ok: false, detail: 'not tested: the object to swap could not be created (see cas-current-etag)' };
  // If the current-ETag write was refused, the first ETag is made stale another way.
  if (!state.swapped) await io.call(`PUT ${state.key}`, () => io.store.put(state.key, 'v2 (overwritten)', overwrite));
  const v3 = await io.write(state.key, 'v3', update(stale));
  if (v3.landed) return { ok: false, detail: 'a write with a stale ETag succeeded: the store ignores If-Match' };
  return refusedAsExpected(v3, 'a write with a stale ETag was refused');
}

/** A compare-and-swap on a missing key must be refused, not create it. */
export async function checkCasMissingKey(io: ProbeRequests, dir: string, state: CasState): Promise<CheckOutcome> {
  const missing = await io.write(`${dir}cas-missing`, 'x', update(state.firstEtag ?? '0'.repeat(32)));
  if (missing.landed) return { ok: false, detail: 'a compare-and-swap on a missing key created it' };
  return refusedAsExpected(missing, 'a compare-and-swap on a missing key was refused');
}

function refusedAsExpected(write: Extract<ProbeWrite, { landed: false }>, detail: string): CheckOutcome {
  if (write.refusal instanceof NotSupportedError) return { ok: false, detail: `not tested: ${write.refusal.message}` };
  return { ok: true, detail: `${detail} (${write.refusal.name})` };
}

/** Like Promise.all, but waits for every request to end before failing, so none is still writing during cleanup. */
async function settleAll<T>(promises: Promise<T>[]): Promise<T[]> {
  const settled = await Promise.allSettled(promises);
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((s) => (s as PromiseFulfilledResult<T>).value);
}

function describe(error: StoreError): string {
  return error instanceof NotSupportedError ? error.message : error.name;
}
