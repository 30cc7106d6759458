import type { Manifest } from '../manifest/manifest.js';
import type { Store } from '../store/store.js';
import type { Clock } from '../time/clock.js';
import type { Logger } from '../util/logger.js';
import type { Runner } from './runner.js';
import { NodeosRunner } from './nodeos/nodeos-runner.js';
import type { NodeosRunnerOptions } from './nodeos/options.js';
import { RunnerConfigError } from './runner-config-error.js';
import { SimRunner, type SimRunnerOptions } from './sim.js';
import { parseSimFaults, type SimFaultSpec } from './sim-faults.js';

/**
 * The one place that turns `--runner sim|nodeos` plus its options into a
 * Runner. The node CLI builds `RunnerOptions` from its flags (both sections
 * may be filled; only the named runner's is read) and passes its components
 * as `RunnerDeps`.
 */
export const RUNNER_NAMES = ['sim', 'nodeos'] as const;
export type RunnerName = (typeof RUNNER_NAMES)[number];

export interface RunnerOptions {
  sim?: Omit<SimRunnerOptions, 'faults'> & {
    /** Fault spec as JSON text or object (docs/runners.md). Absent: env REPLAY_SIM_FAULTS. */
    faults?: string | SimFaultSpec;
  };
  /** `dataDir` is required for nodeos; see src/runner/nodeos/options.ts for every field and its default. */
  nodeos?: NodeosRunnerOptions;
}

export interface RunnerDeps {
  clock: Clock;
  logger: Logger;
  /** This node's id (fault scoping, log lines). */
  nodeId?: string;
  /** The run's store: artifacts, snapshots and block logs are fetched from it (nodeos). */
  store?: Store;
  /** The run's manifest: nodeos artifact and version, disk requirement (nodeos). */
  manifest?: Manifest;
  /** Environment to read REPLAY_SIM_FAULTS from; default process.env. */
  env?: Record<string, string | undefined>;
}

export function createRunner(name: string, options: RunnerOptions, deps: RunnerDeps): Runner {
  switch (name) {
    case 'sim': {
      const sim = options.sim ?? {};
      const env = deps.env ?? process.env;
      const faults = sim.faults !== undefined
        ? parseSimFaults(sim.faults, 'sim fault spec')
        : parseSimFaults(env.REPLAY_SIM_FAULTS, 'REPLAY_SIM_FAULTS');
      return new SimRunner({ ...sim, faults }, { clock: deps.clock, nodeId: deps.nodeId });
    }
    case 'nodeos': {
      if (!options.nodeos?.dataDir) throw new RunnerConfigError('the nodeos runner needs a data directory; pass --data-dir DIR');
      return new NodeosRunner(options.nodeos, { clock: deps.clock, logger: deps.logger, store: deps.store, manifest: deps.manifest });
    }
    default:
      throw new RunnerConfigError(`unknown runner "${name}"; use one of ${RUNNER_NAMES.join(', ')}`);
  }
}
