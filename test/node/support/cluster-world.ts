import { afterEach, beforeEach } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { itemIdFromKey, runKeys } from '../../../src/layout/keys.js';
import { decodeLease, type LeaseRecord } from '../../../src/records/lease-record.js';
import { buildManifest } from '../../../src/manifest/build-manifest.js';
import type { Manifest } from '../../../src/manifest/manifest.js';
import { publishManifest } from '../../../src/manifest/publish.js';
import { decodeDigest, type DigestEntry } from '../../../src/records/digest-record.js';
import { decodeResult, type ResultRecord } from '../../../src/records/result-record.js';
import { createFileStore } from '../../../src/store/file.js';
import { getIfExists } from '../../../src/store/get-if-exists.js';
import { listAll, type Store } from '../../../src/store/store.js';
import { systemClock } from '../../../src/time/system-clock.js';
import { freshS3Store } from '../../support/s3.js';
import { NodeProcess } from './node-process.js';
import { wallDate } from '../../support/wall-clock.js';

/** Where a cluster test's nodes meet: the URL their CLI gets, and a Store for the test's own reads. */
export interface StoreTarget {
  url: string;
  /** Environment a node process needs to open the store (credentials). */
  env: Record<string, string>;
  store: Store;
  close(): Promise<void>;
}

export async function fileTarget(): Promise<StoreTarget> {
  const dir = await mkdtemp(join(tmpdir(), 'cluster-'));
  const store = createFileStore(dir, { clock: systemClock });
  return { url: `file://${dir}`, env: {}, store, close: async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  } };
}

export interface TestRunOptions {
  run: string;
  items: number;
  /** Blocks per item. Default 100. */
  span?: number;
  ttlMs: number;
  replicas?: number;
  maxAttempts?: number;
}

/** Publishes a run of `items` contiguous intervals of `span` blocks from genesis. */
export async function publishRun(store: Store, options: TestRunOptions): Promise<Manifest> {
  const span = options.span ?? 100;
  const manifest = buildManifest({
    run: options.run,
    createdAt: wallDate().toISOString(),
    intervals: Array.from({ length: options.items }, (_, i) => ({ start: i * span, end: (i + 1) * span })),
    replicas: options.replicas ?? 1,
    defaults: { leaseTtlMs: options.ttlMs, maxAttempts: options.maxAttempts ?? 3 },
  });
  await publishManifest(store, manifest);
  return manifest;
}

async function readAll<T>(store: Store, prefix: string, decode: (key: string, body: Uint8Array) => T): Promise<Map<string, T>> {
  const out = new Map<string, T>();
  for await (const info of listAll(store, prefix)) {
    const id = itemIdFromKey(info.key, prefix);
    const got = id === undefined ? undefined : await getIfExists(store, info.key);
    if (id !== undefined && got) out.set(id, decode(info.key, got.body));
  }
  return out;
}

export const readResults = (store: Store, run: string): Promise<Map<string, ResultRecord>> => readAll(store, runKeys(run).resultsPrefix, decodeResult);
export const readLeases = (store: Store, run: string): Promise<Map<string, LeaseRecord>> => readAll(store, runKeys(run).leasesPrefix, decodeLease);

/** Every digest entry of the run, by item (an item in two digests is a test failure). */
export async function readDigestEntries(store: Store, run: string): Promise<Map<string, DigestEntry>> {
  const entries = new Map<string, DigestEntry>();
  for await (const info of listAll(store, runKeys(run).digestsPrefix)) {
    const digest = decodeDigest(info.key, (await getIfExists(store, info.key))!.body);
    for (const entry of digest.results) {
      if (entries.has(entry.item)) throw new Error(`${entry.item} is in two digests`);
      entries.set(entry.item, entry);
    }
  }
  return entries;
}

export async function keysUnder(store: Store, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const info of listAll(store, prefix)) keys.push(info.key);
  return keys;
}

export async function readJson<T>(store: Store, key: string): Promise<T | undefined> {
  const got = await getIfExists(store, key);
  return got ? (JSON.parse(Buffer.from(got.body).toString('utf8')) as T) : undefined;
}

/** Node processes of one test; `killAll` in afterEach so none outlives its test. */
export class Cluster {
  readonly nodes: NodeProcess[] = [];

  constructor(private readonly target: StoreTarget, private readonly run: string) {}

  join(node: string, args: string[] = [], env: Record<string, string> = {}): NodeProcess {
    const process = new NodeProcess(node, ['--store', this.target.url, '--run', this.run, ...args], { ...this.target.env, ...env });
    this.nodes.push(process);
    return process;
  }

  async killAll(): Promise<void> {
    for (const n of this.nodes) {
      n.signal('SIGCONT');
      n.signal('SIGKILL');
    }
    await Promise.all(this.nodes.map((n) => n.exited));
  }
}

export interface ClusterFixture {
  readonly target: StoreTarget;
  readonly cluster: Cluster;
  readonly run: string;
}

/** Registers beforeEach/afterEach: a fresh store target and run id per test, every node killed after it. */
export function useCluster(makeTarget: () => Promise<StoreTarget>, runPrefix: string): ClusterFixture {
  const state: { target?: StoreTarget; cluster?: Cluster; run?: string } = {};
  let n = 0;
  beforeEach(async () => {
    state.target = await makeTarget();
    state.run = `${runPrefix}-${++n}`;
    state.cluster = new Cluster(state.target, state.run);
  });
  afterEach(async () => {
    await state.cluster?.killAll();
    await state.target?.close();
  });
  return {
    get target() { return state.target!; },
    get cluster() { return state.cluster!; },
    get run() { return state.run!; },
  };
}

/** A fresh bucket on the test run's S3 server (RGW); use inside describeS3. */
export async function s3Target(): Promise<StoreTarget> {
  const s3 = await freshS3Store('cluster');
  return { url: s3.url, env: s3.env, store: s3.store, close: () => s3.cleanup() };
}
