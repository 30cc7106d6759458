import { itemId, parseItemId } from '../layout/keys.js';
import type { Store } from '../store/store.js';
import { buildManifest, dropUndefined, type BuildManifestInput } from './build-manifest.js';
import { ManifestInputError } from './errors.js';
import { findFailedItems, type RerunReason } from './failed-items.js';
import { manifestItems } from './items.js';
import type { Manifest, ManifestInterval } from './manifest.js';
import { splitLines, stripComment } from './numbers.js';

/**
 * A re-run is a new run holding a subset of an old run's intervals (runs are
 * immutable, so it never edits the old one). The intervals keep their
 * snapshots and expected hashes; replicas, nodeos and defaults are copied
 * unless overridden (a backtrack after a bad release usually names a new
 * nodeos).
 */
export type RerunMode =
  /** Every interval that ends after block N: what an operator re-does from a bad release on. */
  | { kind: 'from-block'; block: number }
  /** The intervals named in a file of item ids. */
  | { kind: 'items'; text: string; source: string }
  /** The failed, conflicting and mismatching items (failed-items.ts). */
  | { kind: 'failed' };

export interface RerunSelection {
  intervals: ManifestInterval[];
  /** For `failed`: why each picked item was picked, by item id. */
  reasons?: Map<string, RerunReason[]>;
}

export async function selectRerunIntervals(store: Store, from: Manifest, mode: RerunMode): Promise<RerunSelection> {
  switch (mode.kind) {
    case 'from-block': {
      const intervals = from.intervals.filter((interval) => interval.end > mode.block);
      if (intervals.length === 0) {
        throw new ManifestInputError('--from-block', `no interval of run ${from.run} ends after block ${mode.block} (its last ends at ${from.intervals.at(-1)!.end}); give a smaller block`);
      }
      return { intervals };
    }
    case 'items':
      return { intervals: pick(from, parseItemList(mode.text, mode.source, from)) };
    case 'failed': {
      const reasons = await findFailedItems(store, from);
      if (reasons.size === 0) {
        throw new ManifestInputError('--failed', `run ${from.run} has no failed, conflicting or mismatching items; nothing to re-run`);
      }
      return { intervals: pick(from, new Set([...reasons.keys()].map(baseId))), reasons };
    }
  }
}

/**
 * An item list: one item id per line (`0100000000-0100250000`, with or
 * without a `.r<k>` replica suffix or a `.json` suffix and key path, so
 * `aws s3 ls` output pastes in: only the last field of a line counts).
 * `#` comments and blank lines are skipped; a replica id selects its whole
 * interval. Returns the selected interval ids.
 */
export function parseItemList(text: string, source: string, from: Manifest): Set<string> {
  const known = new Set(manifestItems(from).flatMap((item) => [item.id, baseId(item.id)]));
  const selected = new Set<string>();
  splitLines(text).forEach((raw, index) => {
    const content = stripComment(raw);
    if (content === '') return;
    const field = content.split(/\s+/).at(-1)!;
    const id = field.slice(field.lastIndexOf('/') + 1).replace(/\.json$/, '');
    const fail = (problem: string): never => {
      throw new ManifestInputError(source, problem, index + 1);
    };
    if (!parseItemId(id)) fail(`${JSON.stringify(field)} is not an item id; write <start>-<end> with 10-digit block numbers, e.g. 0100000000-0100250000`);
    if (!known.has(id)) fail(`${id} is not an item of run ${from.run}; check the run id and the list`);
    selected.add(baseId(id));
  });
  if (selected.size === 0) throw new ManifestInputError(source, 'names no items; give one item id per line');
  return selected;
}

/** Builds the new run's manifest from the old one and the selection. */
export function buildRerunManifest(
  from: Manifest,
  selection: RerunSelection,
  input: Pick<BuildManifestInput, 'run' | 'createdAt' | 'expected' | 'replicas' | 'defaults' | 'chainId' | 'nodeos'>,
  source: Record<string, unknown>,
): Manifest {
  return buildManifest({
    run: input.run,
    createdAt: input.createdAt,
    intervals: selection.intervals,
    expected: input.expected,
    replicas: input.replicas ?? from.replicas,
    defaults: { ...from.defaults, ...dropUndefined(input.defaults ?? {}) },
    chainId: input.chainId ?? from.chainId,
    nodeos: input.nodeos ?? from.nodeos,
    source: { kind: 'rerun', from: from.run, ...source, intervals: selection.intervals.length },
  });
}

function pick(from: Manifest, ids: ReadonlySet<string>): ManifestInterval[] {
  return from.intervals.filter((interval) => ids.has(itemId({ start: interval.start, end: interval.end })));
}

/** `<start>-<end>.r2` -> `<start>-<end>`. */
function baseId(id: string): string {
  const dot = id.indexOf('.');
  return dot === -1 ? id : id.slice(0, dot);
}
