import { access, constants, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { extname, join, relative } from 'node:path';
import { execa } from 'execa';
import { nodeosEnvironment } from './nodeos-env.js';
import type { Store } from '../../store/store.js';
import { RunnerConfigError } from '../runner-config-error.js';
import { downloadObject } from './download.js';

/**
 * The nodeos binary: either the operator's (`--nodeos-bin`), or the
 * manifest's artifact (`artifacts/....deb` unpacked with `dpkg -x`, or
 * `.tar.gz`), verified against its sha256 and cached by that hash so later
 * items and restarts reuse it. Either way the version is read from
 * `nodeos --version` and checked against the manifest.
 */
export interface InstalledNodeos {
  bin: string;
  version: string;
}

export interface InstallRequest {
  nodeosBin?: string;
  artifact?: { key: string; sha256: string };
  /** The manifest's nodeos version; checked when given. */
  expectedVersion?: string;
  cacheDir: string;
  store?: Store;
  signal?: AbortSignal;
}

const COMPLETE = '.complete';

export async function installNodeos(request: InstallRequest): Promise<InstalledNodeos> {
  let bin: string;
  if (request.nodeosBin) {
    bin = request.nodeosBin;
    try {
      await access(bin, constants.X_OK);
    } catch {
      throw new RunnerConfigError(`--nodeos-bin ${bin} is not an executable file; give the path of nodeos`);
    }
  } else if (request.artifact) {
    if (!request.store) throw new RunnerConfigError('installing the nodeos artifact needs the run store');
    bin = await installArtifact(request.store, request.artifact, join(request.cacheDir, 'nodeos'), request.signal);
  } else {
    throw new RunnerConfigError('the manifest names no nodeos artifact; pass --nodeos-bin PATH');
  }
  const version = await nodeosVersion(bin);
  if (request.expectedVersion && normalise(version) !== normalise(request.expectedVersion)) {
    throw new RunnerConfigError(`${bin} is nodeos ${version} but the manifest asks for ${request.expectedVersion}; use the right --nodeos-bin or artifact`);
  }
  return { bin, version };
}

export async function nodeosVersion(bin: string): Promise<string> {
  // The artifact's binary runs here first: with nodeos's minimal environment, never the store's credentials.
  const result = await execa(bin, ['--version'], { reject: false, timeout: 60_000, extendEnv: false, env: nodeosEnvironment({}) });
  const version = String(result.stdout ?? '').trim().split('\n')[0] ?? '';
  if (result.failed || !version) {
    throw new RunnerConfigError(`${bin} --version failed (${result.shortMessage ?? 'no output'}); is it a nodeos binary for this machine?`);
  }
  return version;
}

function normalise(version: string): string {
  return version.trim().replace(/^v/i, '');
}

async function installArtifact(store: Store, artifact: { key: string; sha256: string }, root: string, signal?: AbortSignal): Promise<string> {
  const sha = artifact.sha256.toLowerCase();
  const dir = join(root, sha);
  const done = await readFile(join(dir, COMPLETE), 'utf8').catch(() => undefined);
  if (done) return join(dir, done.trim());

  const kind = artifact.key.endsWith('.deb') ? 'deb' : artifact.key.endsWith('.tar.gz') || artifact.key.endsWith('.tgz') ? 'tgz' : undefined;
  if (!kind) throw new RunnerConfigError(`nodeos artifact ${artifact.key} is neither a .deb nor a .tar.gz; fix the manifest`);
  // Unpack beside the final directory, then rename: a crash never leaves a half-installed cache entry.
  const staging = join(root, `${sha}.${process.pid}.tmp`);
  await rm(staging, { recursive: true, force: true });
  await mkdir(join(staging, 'root'), { recursive: true });
  try {
    const pkg = join(staging, `package${kind === 'deb' ? '.deb' : extname(artifact.key) === '.tgz' ? '.tgz' : '.tar.gz'}`);
    const got = await downloadObject(store, artifact.key, pkg, { decompress: false, signal }).catch((error: Error) => {
      throw new RunnerConfigError(`cannot fetch nodeos artifact ${artifact.key}: ${error.message}`);
    });
    if (got.sha256 !== sha) {
      throw new RunnerConfigError(`nodeos artifact ${artifact.key} has sha256 ${got.sha256}, the manifest says ${sha}; re-upload the artifact or fix the manifest`);
    }
    const unpack = kind === 'deb'
      ? await execa('dpkg', ['-x', pkg, join(staging, 'root')], { reject: false })
      : await execa('tar', ['-xzf', pkg, '-C', join(staging, 'root')], { reject: false });
    if (unpack.failed) throw new RunnerConfigError(`cannot unpack ${artifact.key}: ${String(unpack.stderr).trim() || unpack.shortMessage}`);
    await rm(pkg);
    const found = await findNodeos(join(staging, 'root'));
    if (!found) throw new RunnerConfigError(`nodeos artifact ${artifact.key} contains no executable named nodeos`);
    const inside = relative(staging, found);
    await writeFile(join(staging, COMPLETE), inside);
    try {
      await rename(staging, dir);
    } catch (error) {
      // Another replay-node on this host installed the same artifact first: use theirs.
      const theirs = await readFile(join(dir, COMPLETE), 'utf8').catch(() => undefined);
      if (!theirs) throw error;
      return join(dir, theirs.trim());
    }
    return join(dir, inside);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/** The usual places first (`usr/bin`, `usr/local/bin`, `bin`), then any `nodeos` a few levels down. */
async function findNodeos(root: string): Promise<string | undefined> {
  for (const candidate of ['usr/bin/nodeos', 'usr/local/bin/nodeos', 'bin/nodeos']) {
    const path = join(root, candidate);
    if (await isExecutable(path)) return path;
  }
  return search(root, 5);
}

async function search(dir: string, depth: number): Promise<string | undefined> {
  if (depth < 0) return undefined;
  const entries = await readdir(dir, { withFileTypes: true });
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isFile() && entry.name === 'nodeos' && (await isExecutable(path))) return path;
  }
  for (const entry of entries) {
    if (!entry.isDirectory()) continue;
    const found = await search(join(dir, entry.name), depth - 1);
    if (found) return found;
  }
  return undefined;
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
