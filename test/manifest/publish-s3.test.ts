import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe } from 'vitest';
import type { Store } from '../../src/store/store.js';
import { describeS3, freshS3Store, type S3TestStore } from '../support/s3.js';
import { publishSuite } from './support/publish-suite.js';

// The publish semantics of the memory and file stores, on a real S3 server:
// each test gets a fresh prefix in one bucket; "the same store" is another
// S3 client on that prefix.
describeS3('publish: S3 store on RGW (separate clients on one prefix)', () => {
  let s3: S3TestStore;
  let prefix = '';
  beforeAll(async () => {
    s3 = await freshS3Store('publish');
  });
  afterAll(() => s3.cleanup());
  describe('publish suite', () => {
    publishSuite({
      store: (): Store => {
        prefix = `case-${randomBytes(4).toString('hex')}/`;
        return s3.reopen(prefix).store;
      },
      sameStore: (): Store => s3.reopen(prefix).store,
    });
  });
});
