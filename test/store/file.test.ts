import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFileStore } from '../../src/store/file.js';
import { systemClock } from '../../src/time/system-clock.js';
import { storeConformanceTests } from '../conformance/store.js';

// The contended cases run in separate worker processes that open the same directory.
storeConformanceTests('file', {
  setup: async () => {
    const root = await mkdtemp(join(tmpdir(), 'file-store-conformance-'));
    return { store: createFileStore(root, { clock: systemClock }), workerSpec: { kind: 'file', root } };
  },
  teardown: async ({ workerSpec }) => {
    if (workerSpec?.kind === 'file') await rm(workerSpec.root, { recursive: true, force: true });
  },
});
