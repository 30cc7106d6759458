import { AlreadyExistsError, PreconditionFailedError, WriteOutcomeUnknownError } from './errors.js';
import { create, isNotModified, update, type Store } from './store.js';

/**
 * The checks of the capability probe (probe.ts), one function each. Each
 * works on keys under its own probe directory and returns whether the store
 * behaved as the lease protocol needs, with a detail for the table. A check
 * throws only for errors that make the store unusable (configuration,
 * unreachable), never for a misbehaviour: that is a failed check.
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

/** A second create of an existing key must be refused, and leave the first body. */
export async function checkCreateIfAbsent(store: Store, dir: string): Promise<CheckOutcome> {
  const key = `${dir}create`;
  await store.put(key, 'first', create);
  try {
    await store.put(key, 'second', create);
  } catch (error) {
    if (error instanceof AlreadyExistsError) {
      const body = await readText(store, key);
      return body === 'first'
        ? { ok: true, detail: 'a second create of the key was refused (AlreadyExists)' }
        : { ok: false, detail: `the second create was refused but the body changed to ${JSON.stringify(body)}` };
    }
    if (error instanceof WriteOutcomeUnknownError) return { ok: false, detail: `the second create had no clear answer (${error.message})` };
    throw error;
  }
  return { ok: false, detail: 'a create of an existing key succeeded: the store ignores If-None-Match' };
}

/** `n` creates of one key at once: exactly one may win, and the stored body must be the winner's. */
export async function checkConcurrentCreates(store: Store, dir: string, n: number): Promise<CheckOutcome> {
  const key = `${dir}race`;
  const outcomes = await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      try {
        await store.put(key, `contender ${i}`, create);
        return 'won' as const;
      } catch (error) {
        if (error instanceof AlreadyExistsError) return 'lost' as const;
        if (error instanceof WriteOutcomeUnknownError) return 'unknown' as const;
        throw error;
      }
    }),
  );
  const body = await readText(store, key);
  const stored = /^contender (\d+)$/.exec(body)?.[1];
  const winners = outcomes.flatMap((o, i) => (o === 'won' ? [i] : []));
  const unknown = outcomes.flatMap((o, i) => (o === 'unknown' ? [i] : []));
  // An ambiguous answer is resolved the protocol's way: the stored body names who landed.
  const resolved = [...winners, ...unknown.filter((i) => String(i) === stored)];
  const tally = `${winners.length} won, ${outcomes.filter((o) => o === 'lost').length} refused, ${unknown.length} ambiguous`;
  if (winners.length > 1) return { ok: false, detail: `${winners.length} of ${n} concurrent creates succeeded (${tally}): the store ignores If-None-Match` };
  if (resolved.length !== 1 || String(resolved[0]) !== stored) {
    return { ok: false, detail: `${n} concurrent creates: ${tally}, but the stored body is ${JSON.stringify(body)}` };
  }
  return { ok: true, detail: `${n} concurrent creates: exactly one winner (${tally})` };
}

/** Compare-and-swap: accepted with the current ETag, refused with a stale one and on a missing key. */
export async function checkCompareAndSwap(store: Store, dir: string): Promise<Record<'cas-current-etag' | 'cas-stale-etag' | 'cas-missing-key', CheckOutcome>> {
  const key = `${dir}cas`;
  const v1 = await store.put(key, 'v1', create);
  let current: CheckOutcome;
  let stale: CheckOutcome;
  try {
    const v2 = await store.put(key, 'v2', update(v1.etag));
    current = v2.etag !== v1.etag
      ? { ok: true, detail: 'a write with the current ETag was accepted' }
      : { ok: false, detail: 'the write with the current ETag kept the old ETag' };
  } catch (error) {
    if (!(error instanceof PreconditionFailedError || error instanceof WriteOutcomeUnknownError)) throw error;
    current = { ok: false, detail: `a write with the current ETag was refused (${error.name}): compare-and-swap cannot work` };
  }
  try {
    await store.put(key, 'v3', update(v1.etag));
    stale = { ok: false, detail: 'a write with a stale ETag succeeded: the store ignores If-Match' };
  } catch (error) {
    if (error instanceof PreconditionFailedError) stale = { ok: true, detail: 'a write with a stale ETag was refused (PreconditionFailed)' };
    else if (error instanceof WriteOutcomeUnknownError) stale = { ok: false, detail: `a write with a stale ETag had no clear answer (${error.message})` };
    else throw error;
  }
  const missingKey = `${dir}cas-missing`;
  let missing: CheckOutcome;
  try {
    await store.put(missingKey, 'x', update(v1.etag));
    missing = { ok: false, detail: 'a compare-and-swap on a missing key created it' };
  } catch (error) {
    if (!(error instanceof PreconditionFailedError)) throw error;
    missing = { ok: true, detail: 'a compare-and-swap on a missing key was refused' };
  }
  return { 'cas-current-etag': current, 'cas-stale-etag': stale, 'cas-missing-key': missing };
}

async function readText(store: Store, key: string): Promise<string> {
  const got = await store.get(key);
  if (isNotModified(got)) throw new Error(`unexpected NotModified for ${key}`);
  return Buffer.from(got.body).toString('utf8');
}
