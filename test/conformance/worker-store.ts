import type { Store } from '../../src/store/store.js';
import { createFileStore } from '../../src/store/file.js';
import { systemClock } from '../../src/time/system-clock.js';

/**
 * How a worker process opens the store under test. Plain JSON, passed to
 * the worker in the STORE_WORKER_SPEC environment variable. Each backend
 * that can be shared between processes adds its case here (s3: added by the
 * S3 backend's tests).
 */
export type WorkerStoreSpec = { kind: 'file'; root: string };

export async function openStoreForWorker(spec: WorkerStoreSpec): Promise<Store> {
  switch (spec.kind) {
    case 'file':
      return createFileStore(spec.root, { clock: systemClock });
    default:
      throw new Error(`openStoreForWorker: unknown store kind in ${JSON.stringify(spec)}`);
  }
}
