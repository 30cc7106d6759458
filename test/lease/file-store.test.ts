import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe } from 'vitest';
import { FileStore } from '../../src/store/file.js';
import { systemClock } from '../../src/time/system-clock.js';
import { sharedStoreLeaseSuite } from './support/shared-store-suite.js';

/** The lease protocol on the embedded `file` backend, each node with its own store instance (as separate processes have). */
describe('leases on the file store', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'lease-file-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });
  sharedStoreLeaseSuite({ openStore: () => new FileStore(root, { clock: systemClock }) });
});
