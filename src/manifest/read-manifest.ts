import { runKeys } from '../layout/keys.js';
import { CorruptObjectError, decodeJson } from '../layout/schema.js';
import { NotFoundError } from '../store/errors.js';
import { isNotModified, type Store } from '../store/store.js';
import { RunNotFoundError } from './errors.js';
import type { Manifest } from './manifest.js';
import { manifestProblem } from './validate-manifest.js';

export interface StoredManifest {
  manifest: Manifest;
  key: string;
  etag: string;
}

/**
 * Loads `runs/<run>/manifest.json` and checks it with the same rules a
 * publisher applies.
 *
 * @throws RunNotFoundError when the run has no manifest
 * @throws CorruptObjectError when the object is not a sound manifest of this run
 */
export async function readManifest(store: Store, run: string): Promise<StoredManifest> {
  const key = runKeys(run).manifest;
  let object;
  try {
    object = await store.get(key);
  } catch (error) {
    if (error instanceof NotFoundError) throw new RunNotFoundError(run, store.description);
    throw error;
  }
  if (isNotModified(object)) throw new Error(`store answered NotModified to an unconditional get of ${key}`);
  return { manifest: decodeManifest(key, object.body, run), key, etag: object.etag };
}

/** Parses and validates a manifest body stored at `key` for `run`. */
export function decodeManifest(key: string, body: Uint8Array | string, run: string): Manifest {
  const value = decodeJson<Manifest>(key, body, 'manifest');
  const problem = manifestProblem(value, run);
  if (problem) throw new CorruptObjectError(key, problem);
  return value;
}
