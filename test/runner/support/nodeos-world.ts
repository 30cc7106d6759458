import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { defaultRunDefaults, type Manifest } from '../../../src/manifest/manifest.js';
import { itemId } from '../../../src/layout/keys.js';
import { createRunner } from '../../../src/runner/create-runner.js';
import type { NodeosRunnerOptions } from '../../../src/runner/nodeos/options.js';
import type { Runner, RunnerProgress, RunResult, WorkItem } from '../../../src/runner/runner.js';
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

export function fakeSnapshot(block: number, chainId = CHAIN, padding = 0): Buffer {
  const head = `FAKE-SNAPSHOT v1\n${JSON.stringify({ chain_id: chainId, head_block_num: block })}\n`;
  return Buffer.concat([Buffer.from(head), Buffer.alloc(padding, 7)]);
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
