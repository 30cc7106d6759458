import { schemaOf } from '../layout/schema.js';
import { ManifestInputError } from './errors.js';
import { checkExpectedHashesMatch, type ExpectedHash } from './expected-hashes.js';
import { defaultRunDefaults, type Manifest, type ManifestInterval, type RunDefaults, type SnapshotRef } from './manifest.js';
import type { SnapshotIndex } from './snapshots.js';
import { manifestProblem } from './validate-manifest.js';

/** An interval as the sources give it; the snapshot is chosen here when not given. */
export interface IntervalInput {
  start: number;
  end: number;
  /** Given by an ENF import or a re-run; otherwise the latest in `snapshots` at or below `start`. */
  snapshot?: SnapshotRef | null;
  expectedEndHash?: string;
}

export interface BuildManifestInput {
  run: string;
  /** ISO time; from the injected clock. */
  createdAt: string;
  intervals: readonly IntervalInput[];
  /** The snapshots present under `snapshots/`; none means every unassigned interval starts from genesis. */
  snapshots?: SnapshotIndex;
  /** `--expected FILE`, keyed by end block; overrides hashes the intervals carry. */
  expected?: { hashes: ReadonlyMap<number, ExpectedHash>; source: string };
  replicas?: number;
  defaults?: Partial<RunDefaults>;
  chainId?: string;
  nodeos?: Manifest['nodeos'];
  source?: Record<string, unknown>;
}

/**
 * Assembles a manifest and checks it with the same rules a reader applies,
 * so nothing unreadable is ever published.
 *
 * @throws ManifestInputError when the inputs do not make a sound manifest
 */
export function buildManifest(input: BuildManifestInput): Manifest {
  if (input.expected) {
    checkExpectedHashesMatch(input.expected.hashes, new Set(input.intervals.map((i) => i.end)), input.expected.source);
  }
  const intervals = input.intervals.map((interval): ManifestInterval => {
    const snapshot = interval.snapshot !== undefined ? interval.snapshot : snapshotRef(input.snapshots, interval.start);
    const expectedEndHash = input.expected?.hashes.get(interval.end)?.hash ?? interval.expectedEndHash;
    return expectedEndHash === undefined
      ? { start: interval.start, end: interval.end, snapshot }
      : { start: interval.start, end: interval.end, snapshot, expectedEndHash };
  });
  const manifest: Manifest = {
    schema: schemaOf('manifest') as Manifest['schema'],
    run: input.run,
    createdAt: input.createdAt,
    ...(input.chainId === undefined ? {} : { chainId: input.chainId }),
    ...(input.nodeos === undefined ? {} : { nodeos: input.nodeos }),
    replicas: input.replicas ?? 1,
    defaults: { ...defaultRunDefaults, ...dropUndefined(input.defaults ?? {}) },
    intervals,
    ...(input.source === undefined ? {} : { source: input.source }),
  };
  const problem = manifestProblem(manifest);
  if (problem) throw new ManifestInputError(`manifest for run ${input.run}`, problem);
  return manifest;
}

function snapshotRef(snapshots: SnapshotIndex | undefined, start: number): SnapshotRef | null {
  const entry = snapshots?.latestAtOrBelow(start);
  return entry ? { key: entry.key } : null;
}

/** The defined members only, so that `{ ...base, ...dropUndefined(overrides) }` keeps base values. */
export function dropUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
