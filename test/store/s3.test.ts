import { storeConformanceTests } from '../conformance/store.js';
import { describeS3, freshS3Store, type S3TestStore } from '../support/s3.js';

// The same conformance suite as the file and memory stores, against a real
// S3 server (Ceph RGW from the global setup, or REPLAY_S3_ENDPOINT); the
// contended cases run in separate worker processes opening the same bucket.
describeS3('S3 store on a real server', () => {
  let s3: S3TestStore;
  storeConformanceTests('s3', {
    setup: async () => {
      s3 = await freshS3Store('conformance');
      const { accessKeyId, secretAccessKey } = s3.target;
      return { store: s3.store, workerSpec: { kind: 's3', url: s3.url, accessKeyId, secretAccessKey } };
    },
    teardown: () => s3.cleanup(),
  });
});
