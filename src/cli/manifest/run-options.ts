import { createHash } from 'node:crypto';
import type { Command } from 'commander';
import { ARTIFACTS_PREFIX } from '../../layout/keys.js';
import type { BuildManifestInput } from '../../manifest/build-manifest.js';
import { parseExpectedHashes } from '../../manifest/expected-hashes.js';
import { defaultRunDefaults, type Manifest } from '../../manifest/manifest.js';
import { NotFoundError } from '../../store/errors.js';
import type { Store } from '../../store/store.js';
import { UserError } from '../describe-error.js';
import { integerOption, readInputFile } from './cli-support.js';
import { durationOption } from '../option-rules.js';

/** Options that define a run, shared by publish, import-enf and rerun. */
export interface RunOptionValues {
  expected?: string;
  replicas?: number;
  chainId?: string;
  nodeosVersion?: string;
  artifact?: string;
  artifactSha256?: string;
  leaseTtlMs?: number;
  maxAttempts?: number;
  minFreeDiskGib?: number;
  hashSnapshots?: boolean;
  dryRun?: boolean;
}

/** `inherited`: the defaults come from another run (rerun), not from the project defaults. */
export function addRunOptions(command: Command, inherited = false): Command {
  const d = (value: string) => (inherited ? "default: the old run's" : `default ${value}`);
  return command
    .option('--expected <file>', 'expected end hashes: "<end-block> <hash>" per line')
    .option('--replicas <k>', `independent replays of each interval, each by a different node (${d('1')})`, integerOption(1))
    .option('--chain-id <id>', 'chain id the nodes must replay')
    .option('--nodeos-version <version>', 'nodeos version the nodes must run (e.g. v5.0.2)')
    .option('--artifact <key>', `nodeos package in the store (${ARTIFACTS_PREFIX}....deb or .tar.gz); its sha256 is computed unless given`)
    .option('--artifact-sha256 <hex>', 'sha256 of --artifact, to skip reading it')
    .option('--lease-ttl-ms <ms>', `lease time-to-live (${d(String(defaultRunDefaults.leaseTtlMs))})`, durationOption(1))
    .option('--max-attempts <n>', `attempts per item before it is marked failed (${d(String(defaultRunDefaults.maxAttempts))})`, integerOption(1))
    .option('--min-free-disk-gib <gib>', `free disk a node needs on its data directory (${d(String(defaultRunDefaults.minFreeDiskBytes / 1024 ** 3))})`, integerOption(0))
    .option(
      '--hash-snapshots',
      'hash each snapshot without a sha256 from its record or .sha256 file by streaming it from the store (4 at a time), so nodes verify their downloads',
    )
    .option('--dry-run', 'print the manifest instead of publishing it');
}

export type ResolvedRunOptions = Pick<BuildManifestInput, 'expected' | 'replicas' | 'chainId' | 'nodeos' | 'defaults'>;

/**
 * Turns the run options into manifest fields. `nodeosVersion` is the
 * source's version (ENF leap_version, the old run's) when the option is absent.
 */
export async function resolveRunOptions(values: RunOptionValues, store: Store, fallback: { nodeos?: Manifest['nodeos'] } = {}): Promise<ResolvedRunOptions> {
  const expected = values.expected
    ? { hashes: parseExpectedHashes(await readInputFile(values.expected, 'expected hashes file'), values.expected), source: values.expected }
    : undefined;
  return {
    expected,
    replicas: values.replicas,
    chainId: values.chainId,
    nodeos: await resolveNodeos(values, store, fallback.nodeos),
    defaults: {
      leaseTtlMs: values.leaseTtlMs,
      maxAttempts: values.maxAttempts,
      minFreeDiskBytes: values.minFreeDiskGib === undefined ? undefined : values.minFreeDiskGib * 1024 ** 3,
    },
  };
}

async function resolveNodeos(values: RunOptionValues, store: Store, fallback: Manifest['nodeos']): Promise<Manifest['nodeos']> {
  if (values.artifactSha256 !== undefined && values.artifact === undefined) throw new UserError('--artifact-sha256 needs --artifact KEY');
  if (values.artifact === undefined) {
    if (values.nodeosVersion === undefined) return fallback;
    // A new version without a new artifact: the old artifact would be the wrong nodeos.
    return { version: values.nodeosVersion };
  }
  const version = values.nodeosVersion ?? fallback?.version;
  if (version === undefined) throw new UserError('--artifact needs --nodeos-version (the version the package installs)');
  const key = values.artifact;
  if (!key.startsWith(ARTIFACTS_PREFIX) || !/\.(deb|tar\.gz)$/.test(key)) {
    throw new UserError(`--artifact ${key} must be a .deb or .tar.gz key under ${ARTIFACTS_PREFIX}; upload the package there first`);
  }
  if (values.artifactSha256 !== undefined && !/^[0-9a-fA-F]{64}$/.test(values.artifactSha256)) {
    throw new UserError(`--artifact-sha256 ${values.artifactSha256} is not 64 hex digits`);
  }
  try {
    const sha256 = values.artifactSha256?.toLowerCase() ?? (await sha256Of(store, key));
    if (values.artifactSha256 !== undefined) await store.head(key);
    return { version, artifact: { key, sha256 } };
  } catch (error) {
    if (error instanceof NotFoundError) throw new UserError(`--artifact ${key} is not in ${store.description}; upload it first`);
    throw error;
  }
}

/** Streams the object through sha256: memory stays flat for a package of any size. */
async function sha256Of(store: Store, key: string): Promise<string> {
  const object = await store.getStream(key);
  const hash = createHash('sha256');
  for await (const chunk of object.body) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
