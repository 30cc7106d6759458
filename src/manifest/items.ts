import { itemId, type ItemRef } from '../layout/keys.js';
import type { Manifest, ManifestInterval } from './manifest.js';

export interface ManifestItem extends ItemRef {
  /** `<start>-<end>`, or `<start>-<end>.r<k>` when the run has replicas > 1. */
  id: string;
  interval: ManifestInterval;
}

/**
 * The work items of a run: one per interval, or `replicas` per interval
 * (`.r1` to `.r<k>`, each replayed by a different node) when replicas > 1.
 * In interval order, replicas of an interval together.
 */
export function manifestItems(manifest: Manifest): ManifestItem[] {
  const items: ManifestItem[] = [];
  for (const interval of manifest.intervals) {
    const { start, end } = interval;
    if (manifest.replicas === 1) {
      items.push({ id: itemId({ start, end }), start, end, interval });
      continue;
    }
    for (let replica = 1; replica <= manifest.replicas; replica++) {
      items.push({ id: itemId({ start, end, replica }), start, end, replica, interval });
    }
  }
  return items;
}
