import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { runKeys } from '../../src/layout/keys.js';
import { decodeLease } from '../../src/records/lease-record.js';
import { buildManifest } from '../../src/manifest/build-manifest.js';
import { publishManifest } from '../../src/manifest/publish.js';
import { decodeNodeRecord, type NodeRecord } from '../../src/records/node-record.js';
import { ReplayNode } from '../../src/node/replay-node.js';
import { SimRunner } from '../../src/runner/sim.js';
import { UnavailableError } from '../../src/store/errors.js';
import { getIfExists } from '../../src/store/get-if-exists.js';
import { MemoryStore } from '../../src/store/memory.js';
import { listAll, type Store } from '../../src/store/store.js';
import { ManualClock } from '../../src/time/manual-clock.js';
import { seededIds } from '../../src/util/ids.js';

/**
 * One replay node in-process on the manual clock, through store outages
 * (issue 12: "a store outage kills every node"). The store answers nothing,
 * then only writes, then everything again: the node never exits, stops its
 * work safely, says so once, records since when the store was unavailable,
 * and finishes the run on its own afterwards.
 */
const RUN = 'outage';
const TTL = 10_000;

/** Every request fails as unreachable while `down` covers it: `all`, or `reads` (lists and gets fail, writes land). */
class OutageStore implements Store {
  down: 'all' | 'reads' | undefined;
  constructor(private readonly inner: Store) {}
  get description(): string {
    return this.inner.description;
  }
  private check(read: boolean): void {
    if (this.down === 'all' || (this.down === 'reads' && read)) throw new UnavailableError('injected: connection refused');
  }
  get: Store['get'] = async (key, options) => (this.check(true), this.inner.get(key, options));
  getStream: Store['getStream'] = async (key, options) => (this.check(true), this.inner.getStream(key, options));
  head: Store['head'] = async (key) => (this.check(true), this.inner.head(key));
  put: Store['put'] = async (key, body, mode) => (this.check(false), this.inner.put(key, body, mode));
  putStream: Store['putStream'] = async (key, body, mode, options) => (this.check(false), this.inner.putStream(key, body, mode, options));
  delete: Store['delete'] = async (key) => (this.check(false), this.inner.delete(key));
  list: Store['list'] = async (options) => (this.check(true), this.inner.list(options));
  close: Store['close'] = () => this.inner.close();
}

async function world(items: number) {
  const clock = new ManualClock();
  const backend = new MemoryStore({ clock });
  const store = new OutageStore(backend);
  const manifest = buildManifest({
    run: RUN, createdAt: '2026-01-01T00:00:00Z',
    intervals: Array.from({ length: items }, (_, i) => ({ start: i * 100, end: (i + 1) * 100 })),
    defaults: { leaseTtlMs: TTL },
  });
  await publishManifest(backend, manifest);
  const lines: Array<{ level: number; msg: string; [k: string]: unknown }> = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line) as (typeof lines)[number]) });
  const node = new ReplayNode(
    { store, clock, ids: seededIds(7, () => clock.now()), logger, runner: new SimRunner({ blocksPerSecond: 100, stepMs: 100 }, { clock }), host: 'test', pid: 1, version: 'test' },
    { run: RUN, node: 'n1', manifest, settings: { exitWhenDone: true } },
  );
  let exited: string | undefined;
  void node.exited.then((e) => (exited = e.reason));
  /** Moves time in 100 ms steps, letting the node's promises run between them. */
  const advance = async (ms: number): Promise<void> => {
    for (let t = 0; t < ms; t += 100) {
      await clock.advance(100);
      for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
    }
  };
  const record = async (): Promise<NodeRecord | undefined> => {
    const got = await getIfExists(backend, runKeys(RUN).node('n1'));
    return got && decodeNodeRecord('n', got.body);
  };
  return { clock, backend, store, node, lines, advance, record, exited: () => exited };
}

describe('a replay node through store outages', () => {
  it('waits out an outage of 3 TTLs, logs it once, shows it in its record, then finishes the run', async () => {
    const w = await world(6);
    void w.node.start();
    await w.advance(2_500); // about two 1 s items done
    const doneBefore = (await collect(w.backend, runKeys(RUN).resultsPrefix)).length;
    expect(doneBefore).toBeGreaterThanOrEqual(1);

    w.store.down = 'all';
    await w.advance(3 * TTL);
    expect(w.exited()).toBeUndefined();
    const downLines = w.lines.filter((l) => l.msg.startsWith('store unavailable'));
    expect(downLines).toHaveLength(1);
    // Every lease it held was given up before it could expire (a finished item may still wait to write its result).
    const leaseLines = (what: string) => w.lines.filter((l) => l.lease === what).length;
    expect(leaseLines('ended')).toBe(leaseLines('held'));

    // Writes get through again, reads do not yet: the record it writes now says since when.
    w.store.down = 'reads';
    await w.advance(TTL);
    expect(w.exited()).toBeUndefined();
    // Since its first request that failed after the outage began (the outage began at 2.5 s).
    const since = Date.parse((await w.record())?.storeUnavailableSince ?? '');
    expect(since - Date.UTC(2026, 0, 1)).toBeGreaterThanOrEqual(2_500);
    expect(since - Date.UTC(2026, 0, 1)).toBeLessThan(2_500 + TTL / 3);
    expect((await w.record())?.state).toBe('waiting');

    w.store.down = undefined;
    await w.advance(6 * 1_500 + TTL);
    expect(w.exited()).toBe('run complete');
    expect(w.lines.filter((l) => l.msg === 'store available again')).toHaveLength(1);
    expect(w.lines.filter((l) => l.msg.startsWith('store unavailable'))).toHaveLength(1);
    const results = await collect(w.backend, runKeys(RUN).resultsPrefix);
    expect(results).toHaveLength(6);
    for (const key of await collect(w.backend, runKeys(RUN).leasesPrefix)) {
      expect(decodeLease(key, (await getIfExists(w.backend, key))!.body).state, key).toBe('done');
    }
    const last = await w.record();
    expect(last).toMatchObject({ state: 'stopped', reason: 'run complete' });
    expect(last?.storeUnavailableSince).toBeUndefined();
  });

  it('a store that never answers at start-up is waited for, not a failed start', async () => {
    const w = await world(2);
    w.store.down = 'all';
    const starting = w.node.start();
    let started = false;
    void starting.then(() => (started = true));
    await w.advance(2 * TTL);
    expect(started).toBe(false);
    expect(w.exited()).toBeUndefined();
    w.store.down = undefined;
    await w.advance(2 * 1_500 + TTL);
    expect(started).toBe(true);
    expect(w.exited()).toBe('run complete');
    expect((await collect(w.backend, runKeys(RUN).resultsPrefix))).toHaveLength(2);
  });
});

async function collect(store: Store, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const info of listAll(store, prefix)) keys.push(info.key);
  return keys;
}
