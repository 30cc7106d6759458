import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { expect } from 'vitest';
import { defaultRunDefaults, type Manifest } from '../../../src/manifest/manifest.js';
import { itemId } from '../../../src/layout/keys.js';
import { createRunner } from '../../../src/runner/create-runner.js';
import type { NodeosRunnerOptions } from '../../../src/runner/nodeos/options.js';
import { RunnerFailure, type Runner, type RunnerProgress, type RunResult, type WorkItem } from '../../../src/runner/runner.js';
import { createMemoryStore, type MemoryStore } from '../../../src/store/memory.js';
import { overwrite } from '../../../src/store/store.js';
import { systemClock } from '../../../src/time/system-clock.js';
import { silentLogger } from '../../../src/util/logger.js';

/**
 * A tmp directory, a memory store holding fake snapshots, and nodeos
 * runners pointed at the fake nodeos (test/fixtures/fake-nodeos). The
 * runner is real: real processes, real signals, real zstd.
 */
export const FAKE_NODEOS = fileURLToPath(new URL('../../fixtures/fake-nodeos/nodeos.cjs', import.meta.url));
export const CHAIN = 'fake-chain';

/** Settings that keep each test to a second or two. */
export const FAST: Partial<NodeosRunnerOptions> = {
  progressIntervalMs: 100,
  stallTimeoutMs: 1_500,
  killGraceMs: 1_000,
  startupTimeoutMs: 10_000,
  hashTimeoutMs: 10_000,
  minFreeDiskBytes: 1,
};

/**
 * The fake nodeos's snapshot format (test/fixtures/fake-nodeos/nodeos.cjs):
 * a 16-byte header of u32 LE fields laid out like a real spring snapshot's
 * (magic 0x30510550, binary version 1, chain snapshot version 2..8, body
 * length), then the body: a JSON line `{"chain_id", "head_block_num"}` and
 * `padding` bytes.
 */
export const SNAPSHOT_MAGIC = 0x30510550;

export interface SnapshotHeader {
  magic?: number;
  binaryVersion?: number;
  chainVersion?: number;
  /** Declared body length; default the real one. */
  bodyLength?: number;
}

export function snapshotBytes(meta: unknown, padding = 0, header: SnapshotHeader = {}): Buffer {
  const body = Buffer.concat([Buffer.from(`${typeof meta === 'string' ? meta : JSON.stringify(meta)}\n`), Buffer.alloc(padding, 7)]);
  const head = Buffer.alloc(16);
  head.writeUInt32LE(header.magic ?? SNAPSHOT_MAGIC, 0);
  head.writeUInt32LE(header.binaryVersion ?? 1, 4);
  head.writeUInt32LE(header.chainVersion ?? 8, 8);
  head.writeUInt32LE(header.bodyLength ?? body.length, 12);
  return Buffer.concat([head, body]);
}

export function fakeSnapshot(block: number, chainId = CHAIN, padding = 0): Buffer {
  return snapshotBytes({ chain_id: chainId, head_block_num: block }, padding);
}

/** Each way the fake nodeos (like the real one) refuses a snapshot file. */
export type BadSnapshotKind = 'magic' | 'binary-version' | 'chain-version' | 'truncated' | 'head-zero' | 'no-chain-id' | 'not-a-snapshot';
export const BAD_SNAPSHOT_KINDS: readonly BadSnapshotKind[] = ['magic', 'binary-version', 'chain-version', 'truncated', 'head-zero', 'no-chain-id', 'not-a-snapshot'];

/** A snapshot of `block` on `chainId` that nodeos refuses at start (exit 254, before its HTTP port opens). */
export function badSnapshot(kind: BadSnapshotKind, block = 100, chainId = CHAIN): Buffer {
  const meta = { chain_id: chainId, head_block_num: block };
  switch (kind) {
    case 'magic':
      return snapshotBytes(meta, 0, { magic: 0x12345678 });
    case 'binary-version':
      return snapshotBytes(meta, 0, { binaryVersion: 2 });
    case 'chain-version':
      return snapshotBytes(meta, 0, { chainVersion: 9 });
    case 'truncated':
      // Declares 1000 body bytes more than it has, like a snapshot cut short.
      return snapshotBytes(meta, 0, { bodyLength: Buffer.byteLength(`${JSON.stringify(meta)}\n`) + 1000 });
    case 'head-zero':
      return snapshotBytes({ chain_id: chainId, head_block_num: 0 });
    case 'no-chain-id':
      return snapshotBytes('this body has no chain id');
    case 'not-a-snapshot':
      return Buffer.from('random bytes\n');
  }
}

/** The message nodeos logs (inside its exception report) for `badSnapshot(kind)`. */
export function badSnapshotMessage(kind: BadSnapshotKind, bytes: Buffer = badSnapshot(kind)): string {
  switch (kind) {
    case 'magic':
    case 'not-a-snapshot':
      return 'Binary snapshot has unexpected magic number!';
    case 'binary-version':
      return 'Binary snapshot is an unsupported version.  Expected : 1, Got: 2';
    case 'chain-version':
      return 'Unsupported version of chain snapshot: 9. Supported version must be between 2 and 8 inclusive.';
    case 'truncated': {
      const wanted = 16 + bytes.readUInt32LE(12);
      return `read datastream of length ${bytes.length} over by ${wanted - bytes.length}`;
    }
    case 'head-zero':
      return 'Snapshot indicates controller head at block number 0, but that is not allowed. Snapshot is invalid.';
    case 'no-chain-id':
      return 'Binary snapshot has no section named eosio::chain::global_property_object';
  }
}

export async function zstdCompress(data: Buffer): Promise<Buffer> {
  const result = await execa('zstd', ['-q', '-c', '-1'], { input: data, encoding: 'buffer' });
  return Buffer.from(result.stdout);
}

export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export interface World {
  dir: string;
  dataDir: string;
  store: MemoryStore;
  /** Puts a (zstd by default) fake snapshot at `snapshots/...` and returns its ref. */
  putSnapshot(block: number, options?: { zst?: boolean; body?: Buffer }): Promise<{ key: string; sha256: string }>;
  runner(options?: Partial<NodeosRunnerOptions>, manifest?: Manifest): Runner;
  item(start: number, end: number, snapshot: WorkItem['snapshot']): WorkItem;
  run(runner: Runner, item: WorkItem, signal?: AbortSignal, onProgress?: (p: RunnerProgress) => void): Promise<{ result: RunResult; progress: RunnerProgress[] }>;
  itemLog(item: WorkItem): Promise<string>;
  cleanup(): Promise<void>;
}

export async function createWorld(): Promise<World> {
  return createWorldIn(await mkdtemp(join(tmpdir(), 'nodeos-runner-')));
}

export async function createWorldIn(dir: string): Promise<World> {
  const dataDir = join(dir, 'data');
  const store = createMemoryStore({ clock: systemClock });
  const runners: Runner[] = [];
  return {
    dir,
    dataDir,
    store,
    async putSnapshot(block, options = {}) {
      const zst = options.zst ?? true;
      const body = options.body ?? (zst ? await zstdCompress(fakeSnapshot(block)) : fakeSnapshot(block));
      const key = `snapshots/snapshot-${String(block).padStart(10, '0')}.bin${zst ? '.zst' : ''}`;
      await store.put(key, body, overwrite);
      return { key, sha256: sha256(body) };
    },
    runner(options = {}, manifest) {
      const runner = createRunner('nodeos', { nodeos: { dataDir, nodeosBin: FAKE_NODEOS, ...FAST, ...options } }, {
        clock: systemClock, logger: silentLogger, store, manifest,
      });
      runners.push(runner);
      return runner;
    },
    item(start, end, snapshot) {
      return { run: 'r1', itemId: itemId({ start, end }), start, end, snapshot, chainId: CHAIN };
    },
    async run(runner, item, signal = new AbortController().signal, onProgress = () => {}) {
      const progress: RunnerProgress[] = [];
      const result = await runner.run(item, { signal, onProgress: (p) => { progress.push(p); onProgress(p); } });
      return { result, progress };
    },
    itemLog(item) {
      return readFile(join(dataDir, 'items', item.itemId, 'nodeos.log'), 'utf8');
    },
    async cleanup() {
      await Promise.all(runners.map((r) => r.close()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export function manifestWith(nodeos: Manifest['nodeos']): Manifest {
  return {
    schema: 'replay/manifest/v1',
    run: 'r1',
    createdAt: '2026-01-01T00:00:00Z',
    chainId: CHAIN,
    nodeos,
    replicas: 1,
    defaults: { ...defaultRunDefaults, minFreeDiskBytes: 1 },
    intervals: [],
  };
}

/** True while a process with this pid exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The RunnerFailure an attempt ended with (fails the test if it resolved or threw anything else). */
export async function failureOf(promise: Promise<unknown>): Promise<RunnerFailure> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(RunnerFailure);
  return error as RunnerFailure;
}
