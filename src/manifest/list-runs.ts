import { isValidName, runsPrefix } from '../layout/keys.js';
import { CorruptObjectError } from '../layout/schema.js';
import { compareKeys } from '../store/key-order.js';
import type { Store } from '../store/store.js';
import { RunNotFoundError } from './errors.js';
import type { Manifest } from './manifest.js';
import { mapLimit } from '../util/map-limit.js';
import { readManifest } from './read-manifest.js';

export interface RunListing {
  run: string;
  /** Absent when the run has no sound manifest; `problem` says why. */
  manifest?: Manifest;
  problem?: string;
}

/**
 * The runs in a store, in run-id order, each with its manifest. A run
 * directory without a sound manifest is listed with the problem (operators
 * should see leftovers), never fatal.
 *
 * Cost: one list request per run plus one get per run, whatever the number of
 * leases, results and failures in each: the listing skips over a run's
 * objects by restarting after `runs/<run>0` ('0' is the character after '/').
 */
export async function listRuns(store: Store): Promise<RunListing[]> {
  const prefix = runsPrefix();
  const runs: string[] = [];
  let startAfter: string | undefined;
  for (;;) {
    const page = await store.list({ prefix, startAfter, limit: 1 });
    const key = page.items[0]?.key;
    if (key === undefined) break;
    const slash = key.indexOf('/', prefix.length);
    if (slash === -1) {
      startAfter = key; // an object directly under runs/: not a run
      continue;
    }
    runs.push(key.slice(prefix.length, slash));
    startAfter = `${key.slice(0, slash)}0`;
  }
  // Key order puts `runs/a.x/` before `runs/a/`; show plain run-id order instead.
  return mapLimit(runs.sort(compareKeys), 8, (run) => describeRun(store, run));
}

async function describeRun(store: Store, run: string): Promise<RunListing> {
  if (!isValidName(run)) return { run, problem: 'not a valid run id (foreign directory)' };
  try {
    return { run, manifest: (await readManifest(store, run)).manifest };
  } catch (error) {
    if (error instanceof RunNotFoundError) return { run, problem: 'no manifest.json' };
    if (error instanceof CorruptObjectError) return { run, problem: error.message };
    throw error;
  }
}
