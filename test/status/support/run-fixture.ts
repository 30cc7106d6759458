/**
 * Writes a run's objects into a store with the real record encoders, so
 * status, observer and benchmark tests can stage any run state (until real
 * nodes are used for it). Every write is an overwrite: fixtures, not protocol.
 */
import { runKeys } from '../../../src/layout/keys.js';
import { encodeJson } from '../../../src/layout/schema.js';
import { encodeLease, type LeaseRecord } from '../../../src/records/lease-record.js';
import { buildManifest, type IntervalInput } from '../../../src/manifest/build-manifest.js';
import { manifestItems } from '../../../src/manifest/items.js';
import type { Manifest } from '../../../src/manifest/manifest.js';
import { encodeConflict } from '../../../src/records/conflict-record.js';
import { digestEntryOf, encodeDigest } from '../../../src/records/digest-record.js';
import { encodeFailure, type FailureRecord } from '../../../src/records/failure-record.js';
import { encodeNodeRecord, type NodeRecord } from '../../../src/records/node-record.js';
import { encodeResult, verdictOf, type ResultRecord } from '../../../src/records/result-record.js';
import { encodeObserverRecord, type ObserverRecord } from '../../../src/records/observer-record.js';
import { overwrite, type Store } from '../../../src/store/store.js';

const ISO = '2026-01-01T00:00:00.000Z';
let ulidCounter = 0;
const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
/** Increasing fake ULIDs (Crockford base32, 26 characters), so keys sort in writing order. */
export function fakeUlid(): string {
  ulidCounter += 1;
  let digits = '';
  for (let n = ulidCounter; n > 0; n = Math.floor(n / 32)) digits = CROCKFORD[n % 32]! + digits;
  return `01J${digits.padStart(23, '0')}`;
}

export const hashOf = (block: number): string => block.toString(16).padStart(64, '0');

export class RunFixture {
  readonly keys;
  manifest!: Manifest;

  constructor(readonly store: Store, readonly run: string) {
    this.keys = runKeys(run);
  }

  /** `count` contiguous intervals of `span` blocks from block 0; `expected` gives some an expected end hash. */
  async publish(options: { count: number; span?: number; replicas?: number; expected?: (end: number, index: number) => string | undefined; leaseTtlMs?: number }): Promise<Manifest> {
    const span = options.span ?? 1000;
    const intervals: IntervalInput[] = Array.from({ length: options.count }, (_, i) => {
      const expectedEndHash = options.expected?.((i + 1) * span, i);
      return { start: i * span, end: (i + 1) * span, snapshot: null, ...(expectedEndHash ? { expectedEndHash } : {}) };
    });
    this.manifest = buildManifest({
      run: this.run, createdAt: ISO, intervals, replicas: options.replicas ?? 1,
      defaults: { leaseTtlMs: options.leaseTtlMs ?? 60_000 }, nodeos: { version: 'v5.0.2' },
    });
    await this.store.put(this.keys.manifest, encodeJson(this.manifest), overwrite);
    return this.manifest;
  }

  itemIds(): string[] {
    return manifestItems(this.manifest).map((i) => i.id);
  }

  async lease(item: string, fields: Partial<LeaseRecord> = {}): Promise<void> {
    const record: LeaseRecord = {
      schema: 'replay/lease/v1', run: this.run, item, holder: 'n1', nonce: fakeUlid(), epoch: 1, state: 'held', ttlMs: 60_000,
      attempts: 1, failedBy: [], acquiredAt: ISO, renewedAt: ISO, ...fields,
    };
    await this.store.put(this.keys.lease(item), encodeLease(record), overwrite);
  }

  /** A result whose hashes follow the chain (start hash = hash of its start block) unless given. */
  async result(item: string, fields: Partial<ResultRecord> = {}): Promise<ResultRecord> {
    const [start, end] = item.split('.')[0]!.split('-').map(Number) as [number, number];
    const interval = this.manifest.intervals.find((i) => i.start === start && i.end === end);
    const endHash = fields.endHash ?? hashOf(end);
    const record: ResultRecord = {
      schema: 'replay/result/v1', run: this.run, item, start, end, startHash: hashOf(start), endHash, headBlock: end,
      headBlockId: end.toString(16), node: 'n1', epoch: 1, nonce: fakeUlid(), startedAt: ISO, finishedAt: ISO, runner: 'sim/1',
      verdict: verdictOf(endHash, interval?.expectedEndHash), timings: {}, ...fields,
    };
    await this.store.put(this.keys.result(item), encodeResult(record), overwrite);
    return record;
  }

  /** A finished item: its result and a `done` lease. */
  async done(item: string, fields: Partial<ResultRecord> = {}): Promise<ResultRecord> {
    const record = await this.result(item, fields);
    await this.lease(item, { state: 'done', holder: record.node });
    return record;
  }

  async conflict(item: string, canonical: ResultRecord, found: { node: string; endHash: string }): Promise<void> {
    const outcome = (r: Pick<ResultRecord, 'node' | 'epoch' | 'endHash' | 'startHash' | 'headBlockId' | 'runner'>) => ({
      node: r.node, epoch: r.epoch, endHash: r.endHash, startHash: r.startHash, headBlockId: r.headBlockId, runner: r.runner,
    });
    const record = {
      schema: 'replay/conflict/v1' as const, run: this.run, item, canonical: outcome(canonical),
      found: outcome({ ...canonical, node: found.node, epoch: canonical.epoch + 1, endHash: found.endHash }), detectedAt: ISO,
    };
    await this.store.put(this.keys.conflict(item, found.node, fakeUlid()), encodeConflict(record), overwrite);
  }

  async failure(item: string, fields: Partial<FailureRecord> = {}): Promise<string> {
    const record: FailureRecord = {
      schema: 'replay/failure/v1', run: this.run, item, node: 'n1', epoch: 1, attempt: 1, reason: 'crashed',
      message: 'nodeos exited with code 1', exitCode: 1, signal: null, logTail: ['line 1', 'line 2'], final: false, at: ISO, ...fields,
    };
    const key = this.keys.failure(item, fakeUlid());
    await this.store.put(key, encodeFailure(record), overwrite);
    return key;
  }

  /** A results digest by `node` indexing `results` (as a node writes after them); returns its key. */
  async digest(node: string, results: ResultRecord[]): Promise<string> {
    const key = this.keys.digest(node, fakeUlid());
    await this.store.put(key, encodeDigest({ schema: 'replay/digest/v1', run: this.run, node, writtenAt: ISO, results: results.map(digestEntryOf) }), overwrite);
    return key;
  }

  async node(node: string, fields: Partial<NodeRecord> = {}): Promise<NodeRecord> {
    const record: NodeRecord = {
      schema: 'replay/node/v1', run: this.run, node, state: 'working', items: [], host: 'host-1', pid: 1, version: '0.1.0', runner: 'sim',
      concurrency: 1, startedAt: ISO, heartbeatAt: ISO, heartbeatMs: 5_000, staleAfterMs: 15_000, seq: 1,
      counts: { done: 0, confirmed: 0, conflicts: 0, failed: 0 }, peerId: `12D3KooW${node}`, addrs: ['/ip4/127.0.0.1/tcp/4001'], ...fields,
    };
    await this.store.put(this.keys.node(node), encodeNodeRecord(record), overwrite);
    return record;
  }

  async observer(observer: string, fields: Partial<ObserverRecord> = {}): Promise<void> {
    const record: ObserverRecord = {
      schema: 'replay/observer/v1', run: this.run, observer, peerId: `12D3KooW${observer}`, addrs: [], heartbeatMs: 5_000,
      staleAfterMs: 15_000, seq: 1, host: 'host-1', version: '0.1.0', startedAt: ISO, heartbeatAt: ISO, ...fields,
    };
    await this.store.put(this.keys.observer(observer), encodeObserverRecord(record), overwrite);
  }

  async raw(key: string, body: string): Promise<void> {
    await this.store.put(key, body, overwrite);
  }
}
