import type { Store } from '../../src/store/store.js';
import { createFileStore } from '../../src/store/file.js';
import { openStore } from '../../src/store/open-store.js';
import { systemClock } from '../../src/time/system-clock.js';

/**
 * How a worker process opens the store under test. Plain JSON, passed to
 * the worker in the STORE_WORKER_SPEC environment variable. Each backend
 * that can be shared between processes adds its case here. The s3 case
 * carries the test server's throwaway keys (never real ones: the spec is
 * test-only).
 */
export type WorkerStoreSpec =
  | { kind: 'file'; root: string }
  | { kind: 's3'; url: string; accessKeyId: string; secretAccessKey: string };

export async function openStoreForWorker(spec: WorkerStoreSpec): Promise<Store> {
  switch (spec.kind) {
    case 'file':
      return createFileStore(spec.root, { clock: systemClock });
    case 's3':
      return openStore(spec.url, { clock: systemClock, s3: { credentials: { accessKeyId: spec.accessKeyId, secretAccessKey: spec.secretAccessKey } } });
    default:
      throw new Error(`openStoreForWorker: unknown store kind in ${JSON.stringify(spec)}`);
  }
}
