import { describeS3 } from '../support/s3.js';
import { s3Target } from './support/cluster-world.js';
import { clusterTests } from './suites/cluster-suite.js';
import { operationsTests } from './suites/operations-suite.js';

// The same guarantees on a real S3 server (Ceph RGW): its clock, its ETags, its conditional writes.
describeS3('replay nodes on RGW', () => {
  clusterTests('RGW', s3Target);
  operationsTests('RGW', s3Target);
});
