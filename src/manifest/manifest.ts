/**
 * The run's definition, `runs/<run>/manifest.json`: immutable once published
 * (runs are immutable; a re-run is a new run id). Replay nodes read only
 * this to know what to do.
 */
export interface SnapshotRef {
  /** Store key under `snapshots/`. */
  key: string;
  /** Hex sha256 of the stored object, when known; the runner verifies it. */
  sha256?: string;
}

export interface ManifestInterval {
  start: number;
  end: number;
  /** Snapshot to start from (latest at or below `start`); null means genesis. */
  snapshot: SnapshotRef | null;
  /** Expected integrity hash of the state at `end`, when a reference exists. */
  expectedEndHash?: string;
}

export interface RunDefaults {
  /** Lease time-to-live; renewals happen at a fraction of it. */
  leaseTtlMs: number;
  /** Attempts per item before it is marked failed for good. */
  maxAttempts: number;
  /** Free disk the nodeos runner requires on its data directory. */
  minFreeDiskBytes: number;
}

export interface Manifest {
  schema: 'replay/manifest/v1';
  run: string;
  /** ISO time of creation (informational). */
  createdAt: string;
  chainId?: string;
  nodeos?: {
    version: string;
    /** A `.deb` or `.tar.gz` under `artifacts/`. */
    artifact?: { key: string; sha256: string };
  };
  /** Independent replays of each interval, each by a different node. */
  replicas: number;
  defaults: RunDefaults;
  intervals: ManifestInterval[];
  /** Where it came from (spacing file, ENF import, re-run of another run). */
  source?: Record<string, unknown>;
}

export const defaultRunDefaults: RunDefaults = {
  leaseTtlMs: 60_000,
  maxAttempts: 3,
  minFreeDiskBytes: 40 * 1024 ** 3,
};
