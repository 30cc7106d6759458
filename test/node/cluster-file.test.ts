import { fileTarget } from './support/cluster-world.js';
import { clusterTests } from './suites/cluster-suite.js';

clusterTests('the file store', fileTarget);
