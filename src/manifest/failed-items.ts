import { itemIdFromKey, runKeys } from '../layout/keys.js';
import { CorruptObjectError, decodeJson } from '../layout/schema.js';
import { NotFoundError } from '../store/errors.js';
import { isNotModified, listAll, type Store } from '../store/store.js';
import { manifestItems } from './items.js';
import type { Manifest } from './manifest.js';
import { mapLimit } from '../util/map-limit.js';

/** Why an item is picked by `rerun --failed`. */
export type RerunReason = 'failed' | 'conflict' | 'mismatch' | 'corrupt-result';

/**
 * The items of a run that did not end verified, for `rerun --failed`:
 *
 * - `failed`: failure records under `failures/<item>/` and no result (the
 *   retry limit ran out, or the run was stopped before another attempt);
 * - `conflict`: anything under `conflicts/<item>/` (two different end hashes:
 *   nondeterminism, re-run to see which one repeats);
 * - `mismatch`: a result whose `verdict` is `"mismatch"`, or whose `endHash`
 *   differs from the manifest's `expectedEndHash`;
 * - `corrupt-result`: a result object that does not parse.
 *
 * Items with failure records that later succeeded are not picked. Only ids
 * of this run's items count; foreign keys are skipped.
 *
 * Cost: three paged listings (failures, conflicts, results) and one get per
 * result (to read verdicts), at most 16 in flight.
 */
export async function findFailedItems(store: Store, manifest: Manifest): Promise<Map<string, RerunReason[]>> {
  const keys = runKeys(manifest.run);
  const items = new Map(manifestItems(manifest).map((item) => [item.id, item]));
  const [failed, conflicted, results] = await Promise.all(
    [keys.failuresPrefix, keys.conflictsPrefix, keys.resultsPrefix].map((prefix) => itemIdsUnder(store, prefix, items)),
  );
  const reasons = new Map<string, RerunReason[]>();
  const add = (id: string, reason: RerunReason): void => {
    reasons.set(id, [...(reasons.get(id) ?? []), reason]);
  };
  for (const id of failed!) if (!results!.has(id)) add(id, 'failed');
  for (const id of conflicted!) add(id, 'conflict');
  const verdicts = await mapLimit([...results!], 16, async (id) => {
    const expected = items.get(id)!.interval.expectedEndHash;
    return [id, await resultVerdict(store, keys.result(id), expected)] as const;
  });
  for (const [id, verdict] of verdicts) if (verdict) add(id, verdict);
  return reasons;
}

async function itemIdsUnder(store: Store, prefix: string, items: ReadonlyMap<string, unknown>): Promise<Set<string>> {
  const ids = new Set<string>();
  for await (const info of listAll(store, prefix)) {
    const id = itemIdFromKey(info.key, prefix);
    if (id !== undefined && items.has(id)) ids.add(id);
  }
  return ids;
}

interface ResultFields {
  schema: string;
  verdict?: unknown;
  endHash?: unknown;
}

async function resultVerdict(store: Store, key: string, expectedEndHash: string | undefined): Promise<RerunReason | undefined> {
  let object;
  try {
    object = await store.get(key);
  } catch (error) {
    if (error instanceof NotFoundError) return undefined; // deleted since the listing
    throw error;
  }
  if (isNotModified(object)) return undefined;
  let result: ResultFields;
  try {
    result = decodeJson<ResultFields>(key, object.body, 'result');
  } catch (error) {
    if (error instanceof CorruptObjectError) return 'corrupt-result';
    throw error;
  }
  if (result.verdict === 'mismatch') return 'mismatch';
  if (expectedEndHash !== undefined && typeof result.endHash === 'string' && result.endHash.toLowerCase() !== expectedEndHash) return 'mismatch';
  return undefined;
}
