import { itemId, runKeys } from '../layout/keys.js';
import type { ManifestItem } from '../manifest/items.js';
import { readResult, writeConflict, type PublishContext } from './publish-result.js';
import { sameOutcome, type ResultRecord } from '../records/result-record.js';

/**
 * With `replicas: k`, each replica of an interval is its own item with its
 * own result, so the create-if-absent cannot see a disagreement between
 * them. The finisher of a replica therefore reads its siblings' results
 * (k-1 GETs) and records a conflict for each that differs. Whichever of two
 * disagreeing replicas finishes last detects it.
 *
 * @returns the sibling item ids whose results differ
 */
export async function compareReplicas(ctx: PublishContext, item: ManifestItem, replicas: number, ours: ResultRecord): Promise<string[]> {
  if (item.replica === undefined || replicas < 2) return [];
  const keys = runKeys(ctx.run);
  const differing: string[] = [];
  for (let replica = 1; replica <= replicas; replica++) {
    if (replica === item.replica) continue;
    const sibling = itemId({ start: item.start, end: item.end, replica });
    const theirs = await readResult(ctx, keys.result(sibling), sibling);
    if (theirs === undefined) continue;
    if (theirs !== 'corrupt' && sameOutcome(theirs, ours)) continue;
    differing.push(sibling);
    await writeConflict(ctx, ours, theirs === 'corrupt' ? undefined : theirs, `replica ${sibling}`);
  }
  return differing;
}
