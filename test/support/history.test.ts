import { beforeEach, describe, expect, it } from 'vitest';
import { runKeys } from '../../src/layout/keys.js';
import { encodeLease, type LeaseRecord, type LeaseState } from '../../src/records/lease-record.js';
import { encodeFailure, type FailureRecord } from '../../src/records/failure-record.js';
import { encodeResult, type ResultRecord } from '../../src/records/result-record.js';
import { MemoryStore } from '../../src/store/memory.js';
import { create, overwrite, type Store } from '../../src/store/store.js';
import { ManualClock } from '../../src/time/manual-clock.js';
import { fileTarget, publishRun, useCluster } from '../node/support/cluster-world.js';
import type { LogLine } from '../node/support/node-process.js';
import type { RecordedRequest } from './fault-proxy.js';
import { checkHistory, formatHistoryReport, LogHistory, type HistorySource } from './history.js';

const held = (item: string, epoch: number, node: string): LogLine => ({ level: 20, msg: 'lease held', lease: 'held', item, epoch, node });
const ended = (item: string, epoch: number, node: string, why = 'released'): LogLine => ({ level: 20, msg: 'lease ended', lease: 'ended', item, epoch, node, why });
const X = '0000000000-0000000100';
const Y = '0000000100-0000000200';

describe('LogHistory: lease belief intervals', () => {
  it('finds two nodes believing at once, with how long', () => {
    const h = new LogHistory(() => 1000);
    h.record('a', held(X, 1, 'a'), 0);
    h.record('b', held(X, 2, 'b'), 50);
    h.record('a', ended(X, 1, 'a', 'deadline'), 100);
    h.record('b', ended(X, 2, 'b'), 150);
    expect(h.intervals(X)).toEqual([
      { item: X, epoch: 1, node: 'a', startMs: 0, endMs: 100, end: 'ended', why: 'deadline' },
      { item: X, epoch: 2, node: 'b', startMs: 50, endMs: 150, end: 'ended', why: 'released' },
    ]);
    const [overlap, ...more] = h.overlaps();
    expect(more).toEqual([]);
    expect(overlap).toMatchObject({ item: X, a: { node: 'a' }, b: { node: 'b' }, overlapMs: 50 });
    expect(h.overlaps({ minMs: 50 })).toEqual([]);
  });

  it('no overlap when one belief ends before the next begins; many items, an item held again later', () => {
    const h = new LogHistory(() => 1000);
    h.record('a', held(X, 1, 'a'), 0);
    h.record('a', held(Y, 1, 'a'), 5);
    h.record('a', ended(X, 1, 'a'), 100);
    h.record('b', held(X, 2, 'b'), 100);
    h.record('b', ended(X, 2, 'b'), 200);
    h.record('a', held(X, 3, 'a'), 300);
    h.record('a', ended(X, 3, 'a', 'done'), 400);
    h.record('a', ended(Y, 1, 'a', 'done'), 500);
    expect(h.intervals(X).map((i) => [i.node, i.epoch, i.startMs, i.endMs])).toEqual([['a', 1, 0, 100], ['b', 2, 100, 200], ['a', 3, 300, 400]]);
    expect(h.intervals(Y)).toHaveLength(1);
    expect(h.overlaps()).toEqual([]);
    expect(h.unmatchedEnds()).toEqual([]);
  });

  it('an exit ends every open belief of that node at the exit time; lines arriving later are clamped to it', () => {
    let now = 0;
    const h = new LogHistory(() => now);
    h.record('a', held(X, 1, 'a'), 10);
    h.record('a', held(Y, 4, 'a'), 20);
    h.exit('a', { at: 60, signal: 'SIGKILL' });
    h.record('a', held('0000000200-0000000300', 1, 'a'), 65); // written before the exit, read after it
    h.record('b', held(X, 2, 'b'), 70);
    now = 500;
    const intervals = h.intervals();
    expect(intervals.filter((i) => i.node === 'a').map((i) => [i.item, i.startMs, i.endMs, i.end])).toEqual([
      [X, 10, 60, 'exit'], [Y, 20, 60, 'exit'], ['0000000200-0000000300', 60, 60, 'exit'],
    ]);
    expect(intervals.find((i) => i.node === 'b')).toMatchObject({ end: 'open', startMs: 70 });
    expect(h.overlaps()).toEqual([]);
    expect(h.exits().get('a')).toEqual({ at: 60, code: null, signal: 'SIGKILL' });
  });

  it('an open belief overlaps until now; one node in two epochs at once is an overlap too', () => {
    let now = 100;
    const h = new LogHistory(() => now);
    h.record('a', held(X, 1, 'a'), 0);
    h.record('a', held(X, 2, 'a'), 40);
    h.record('a', held(X, 2, 'a'), 41); // a repeated line is one belief
    now = 140;
    expect(h.overlaps()).toEqual([expect.objectContaining({ overlapMs: 100 })]);
  });

  it('attaches to a node process: past lines with their arrival times, later ones as they come, and the exit', async () => {
    const listeners: Array<(line: LogLine, at: number) => void> = [];
    let exit!: (e: { code: number | null; signal: NodeJS.Signals | null }) => void;
    const source: HistorySource = {
      node: 'n1',
      logs: [{ level: 30, msg: 'starting' }, held(X, 1, 'n1')],
      arrivals: [1, 2],
      exitedAt: undefined,
      exited: new Promise((resolve) => (exit = resolve)),
      onLine: (l) => (listeners.push(l), () => undefined),
    };
    const h = new LogHistory(() => 1000);
    h.attach(source);
    listeners[0]!(held(Y, 1, 'n1'), 5);
    source.exitedAt = 9;
    exit({ code: null, signal: 'SIGKILL' });
    await source.exited;
    await Promise.resolve();
    expect(h.lines().map((l) => l.at)).toEqual([1, 2, 5]);
    expect(h.intervals().map((i) => [i.item, i.startMs, i.endMs, i.end])).toEqual([[X, 2, 9, 'exit'], [Y, 5, 9, 'exit']]);
  });

  it('lines without the contract fields are not beliefs; an ended with no held is reported', () => {
    const h = new LogHistory(() => 0);
    h.record('a', { level: 30, msg: 'claimed x', item: X }, 1);
    h.record('a', { level: 30, msg: 'lease held', lease: 'held', item: X, epoch: '1' }, 2);
    h.record('a', ended(Y, 1, 'a'), 3);
    expect(h.intervals()).toEqual([]);
    expect(h.unmatchedEnds()).toHaveLength(1);
  });
});

describe('checkHistory: the store at the end of a run', () => {
  const run = 'hist';
  const items = [X, Y, '0000000200-0000000300'];
  let store: Store;
  beforeEach(async () => {
    store = new MemoryStore({ clock: new ManualClock(Date.UTC(2026, 0, 1)) });
    await publishRun(store, { run, items: 3, ttlMs: 3000 });
  });

  const lease = (item: string, state: LeaseState, holder = 'a', epoch = 1): Promise<unknown> => {
    const record: LeaseRecord = {
      schema: 'replay/lease/v1', run, item, holder, nonce: `n-${item}-${epoch}`, epoch, state, ttlMs: 3000, attempts: epoch,
      failedBy: [], acquiredAt: '2026-01-01T00:00:00.000Z', renewedAt: '2026-01-01T00:00:00.000Z',
    };
    return store.put(runKeys(run).lease(item), encodeLease(record), overwrite);
  };
  const result = (item: string, node = 'a'): Promise<unknown> => {
    const [start, end] = item.split('-').map(Number) as [number, number];
    const record: ResultRecord = {
      schema: 'replay/result/v1', run, item, start, end, endHash: 'e'.repeat(64), headBlock: end, headBlockId: 'b', node, epoch: 1, nonce: 'r',
      startedAt: '2026-01-01T00:00:00.000Z', finishedAt: '2026-01-01T00:00:01.000Z', runner: 'sim/1', verdict: 'unverified', timings: {},
    };
    return store.put(runKeys(run).result(item), encodeResult(record), create);
  };
  let ulid = 0;
  const failure = (item: string, node: string, reason: string, epoch = 1, extra: Partial<FailureRecord> = {}): Promise<unknown> => {
    const record: FailureRecord = {
      schema: 'replay/failure/v1', run, item, node, epoch, attempt: epoch, reason, message: reason, logTail: [], final: false, at: '2026-01-01T00:00:00.000Z', ...extra,
    };
    return store.put(runKeys(run).failure(item, `01J00000000000000000000${String(++ulid).padStart(3, '0')}`), encodeFailure(record), create);
  };
  const accepted = (client: string, key: string, delivered = true): RecordedRequest => ({
    seq: 1, client, clientSeq: 1, method: 'PUT', bucket: 'b', key, query: { 'x-id': 'PutObject' }, ifNoneMatch: '*',
    fault: delivered ? 'none' : 'drop-reset', by: delivered ? 'none' : 'plan', status: 200, startMs: 0, endMs: 1, delivered,
  });

  it('a clean run: every item has its result, every lease is done', async () => {
    for (const item of items) {
      await lease(item, 'done');
      await result(item);
    }
    const report = await checkHistory({ store, run });
    expect(report).toMatchObject({ items: 3, results: 3, missingResults: [], lost: [], overwrites: [], overlaps: [], unfinishedLeases: [], unexplainedFailures: [], problems: [], ok: true });
    expect(formatHistoryReport(report)).toMatch(/^history of run hist: OK\n {2}items 3 {3}results 3/);
  });

  it('finds lost items, unfinished leases, overwrites in the proxy record, and corrupt objects', async () => {
    await lease(X, 'done');
    await result(X);
    await lease(Y, 'held');
    await store.put(runKeys(run).result(Y), '{"schema":"replay/result/v1"}', create);
    await failure(items[2]!, 'a', 'crashed', 1, { final: true });
    await lease(items[2]!, 'failed');
    const requests = [accepted('a', `p/${runKeys(run).result(X)}`), accepted('b', `p/${runKeys(run).result(X)}`, false)];
    const report = await checkHistory({ store, run, requests, keyPrefix: 'p/' });
    expect(report).toMatchObject({
      results: 1,
      missingResults: [Y, items[2]],
      failedItems: [items[2]],
      lost: [Y],
      unfinishedLeases: [{ item: Y, state: 'held' }],
      overwrites: [{ item: X, writes: 2, clients: ['a', 'b'] }],
      failuresByReason: { crashed: 1 },
      ok: false,
    });
    expect(report.problems).toEqual([expect.stringMatching(/corrupt object .*results\/0000000100-0000000200.json/)]);
    const text = formatHistoryReport(report);
    expect(text).toMatch(/PROBLEMS/);
    expect(text).toMatch(/2 accepted PUTs \(a, b\)/);
    expect(text.split('\n').length).toBeLessThan(25);
  });

  it('explains lease-expired failures by the history: lost, died, or a lease write landed unanswered', async () => {
    for (const item of items) {
      await lease(item, 'done');
      await result(item);
    }
    const h = new LogHistory(() => 1000);
    h.record('lost', held(X, 1, 'lost'), 0);
    h.record('lost', ended(X, 1, 'lost', 'deadline'), 10);
    await failure(X, 'lost', 'lease-expired', 1);
    h.exit('killed', { at: 5, signal: 'SIGKILL' });
    await failure(Y, 'killed', 'lease-expired', 1); // died before it could log the belief
    await failure(items[2]!, 'ghost', 'lease-expired', 1); // its claim landed, the answer never came
    const requests = [accepted('ghost', runKeys(run).lease(items[2]!), false)];
    expect((await checkHistory({ store, run, history: h, requests })).unexplainedFailures).toEqual([]);
    expect((await checkHistory({ store, run, history: h })).unexplainedFailures).toEqual([
      expect.objectContaining({ node: 'ghost', why: expect.stringMatching(/never believed it held/) }),
    ]);
  });

  it('reports failures it cannot explain: a live belief, no node, bad JSON', async () => {
    for (const item of items) await lease(item, 'done');
    const h = new LogHistory(() => 1000);
    h.record('alive', held(X, 1, 'alive'), 0);
    await failure(X, 'alive', 'lease-expired', 1);
    await failure(Y, '', 'crashed');
    await store.put(runKeys(run).failure(Y, '01J0000000000000000000ZZZZ'), 'not json', create);
    const report = await checkHistory({ store, run, history: h });
    expect(report.unexplainedFailures.map((u) => u.why)).toEqual([
      expect.stringMatching(/alive still believes it holds/),
      'names no node',
      expect.stringMatching(/not valid JSON/),
    ]);
    expect(report.failuresByReason).toEqual({ 'lease-expired': 1, crashed: 1 });
  });
});

// The whole chain once with real processes: the built CLI on a file store, its log lines stamped on arrival.
describe('checkHistory on a real run', () => {
  const fx = useCluster(fileTarget, 'history');

  it('two nodes finish a run: a clean report, the exits recorded', async () => {
    await publishRun(fx.target.store, { run: fx.run, items: 6, ttlMs: 3000 });
    const history = new LogHistory();
    const sim = ['--runner', 'sim', '--no-gossip', '--sim-step-ms', '50', '--sim-speed', '1000', '--exit-when-done'];
    for (const node of ['h1', 'h2']) history.attach(fx.cluster.join(node, sim));
    const exits = await Promise.all(fx.cluster.nodes.map((n) => n.exited));
    expect(exits.map((e) => e.code)).toEqual([0, 0]);
    const report = await checkHistory({ store: fx.target.store, run: fx.run, history });
    expect(report, formatHistoryReport(report)).toMatchObject({ items: 6, results: 6, lost: [], overlaps: [], unfinishedLeases: [], ok: true });
    expect([...history.exits().keys()].sort()).toEqual(['h1', 'h2']);
    const times = history.lines().map((l) => l.at);
    expect(times.length).toBeGreaterThan(0);
    const intervals = history.intervals();
    expect(new Set(intervals.map((i) => i.item)).size).toBe(6);
    for (const i of intervals) expect(i.end).not.toBe('open');
  });
});
