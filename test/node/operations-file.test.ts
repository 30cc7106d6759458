import { fileTarget } from './support/cluster-world.js';
import { operationsTests } from './suites/operations-suite.js';

operationsTests('the file store', fileTarget);
