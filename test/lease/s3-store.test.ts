import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll } from 'vitest';
import { describeS3, freshS3Store, type S3TestStore } from '../support/s3.js';
import { sharedStoreLeaseSuite } from './support/shared-store-suite.js';

/**
 * The lease protocol on a real S3 server (RGW: unquoted If-Match, 500s to
 * race losers, its own Date), each node with its own S3 client; every case
 * in a fresh prefix of one bucket.
 */
describeS3('leases on S3 (RGW)', () => {
  let s3: S3TestStore;
  let prefix = '';
  beforeAll(async () => {
    s3 = await freshS3Store('leases');
  });
  afterAll(() => s3.cleanup());
  sharedStoreLeaseSuite({
    fresh: () => void (prefix = `case-${randomBytes(4).toString('hex')}/`),
    openStore: () => s3.reopen(prefix).store,
  });
});
