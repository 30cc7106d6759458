/**
 * Issue 19, part 1: one oversized object in the bucket must not take out
 * the status views. A node record listing 130,000 items made
 * `replay-node status` die with "Maximum call stack size exceeded" and the
 * observer's API hang; now the record is refused at decode time, shown as
 * one problem line naming its key, and the rest of the run is shown.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_RECORD_ARRAY } from '../../src/layout/record-bounds.js';
import { ObserverServer } from '../../src/observer/http/server.js';
import { Observer } from '../../src/observer/observer.js';
import type { RunStatus } from '../../src/status/index.js';
import { createFileStore, type FileStore } from '../../src/store/file.js';
import { systemClock } from '../../src/time/system-clock.js';
import { silentLogger } from '../../src/util/logger.js';
import { runBuiltCli } from '../support/cli.js';
import { RunFixture } from '../status/support/run-fixture.js';
import { wallMonotonic } from '../support/wall-clock.js';

const BIG = 130_000;
let dir: string;
let url: string;
let store: FileStore;
let run: RunFixture;
let items: string[];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'big-objects-'));
  url = pathToFileURL(dir).href;
  store = createFileStore(dir, { clock: systemClock });
  run = new RunFixture(store, 'r1');
  await run.publish({ count: 10 });
  items = run.itemIds();
  await run.done(items[0]!);
  await run.node('sane', { items: [{ item: items[1]!, epoch: 1, startedAt: 'x', headBlock: 1_500, blocksPerSecond: 20 }], staleAfterMs: 600_000 });
  await run.lease(items[1]!, { holder: 'sane' });
  // 130,000 items with a head block each: Math.max(...heads) overflowed the stack (19 MB of JSON).
  const huge = Array.from({ length: BIG }, (_, i) => ({ item: items[i % 10]!, epoch: 1, startedAt: 'x', headBlock: i, blocksPerSecond: 1 }));
  await run.node('huge', { items: huge, staleAfterMs: 600_000 });
  // Small in bytes, long in entries: the array bound, naming the field.
  await run.raw(run.keys.node('many'), JSON.stringify({
    schema: 'replay/node/v1', run: 'r1', node: 'many', state: 'working', staleAfterMs: 15_000, items: Array.from({ length: 5_000 }, () => ({ item: 'a' })),
  }));
  await run.lease(items[2]!, { state: 'failed', attempts: 3, failedBy: Array.from({ length: 5_000 }, (_, i) => `n${i}`) });
  await run.failure(items[3]!, { logTail: Array.from({ length: 5_000 }, (_, i) => `line ${i}`) });
}, 180_000);

afterAll(async () => {
  await store?.close();
  await rm(dir, { recursive: true, force: true });
});

const KEYS = () => [run.keys.node('huge'), run.keys.node('many'), run.keys.lease(items[2]!)];

describe('an oversized record in the bucket', () => {
  it('replay-node status prints the run, with one problem line per oversized record naming its key', async () => {
    const out = await runBuiltCli('replay-node', ['status', '--store', url, '--run', 'r1']);
    expect([out.exitCode, out.stderr]).toEqual([0, '']);
    expect(out.stdout).toMatch(/items +pending \d+ .* done 1 .*\(total 10\)/);
    expect(out.stdout).toContain('sane');
    for (const key of KEYS()) {
      const lines = out.stdout.split('\n').filter((line) => line.includes(key));
      expect(lines, key).toHaveLength(1);
      expect(lines[0]).toMatch(/corrupt object .*(bytes \(at most|entries \(at most)/);
    }
    expect(out.stdout).toContain(`field "items" holds 5000 entries (at most ${MAX_RECORD_ARRAY}`);
    expect(out.stdout).toContain(`field "failedBy" holds 5000 entries`);
    expect(out.stdout).toContain(`field "logTail" holds 5000 entries`);
  });

  it('replay-node status --json lists them under problems and the sound records as usual', async () => {
    const out = await runBuiltCli('replay-node', ['status', '--store', url, '--run', 'r1', '--json']);
    expect(out.exitCode).toBe(0);
    const status = JSON.parse(out.stdout) as RunStatus;
    expect(status.nodes.map((n) => n.node)).toEqual(['sane']);
    expect(status.nodes[0]!.headBlock).toBe(1_500);
    const problemKeys = status.problems.map((p) => p.key);
    for (const key of KEYS()) expect(problemKeys).toContain(key);
  });

  it('the observer API answers (within a generous bound) and the page names the record', async () => {
    const observer = new Observer({ store, clock: systemClock, logger: silentLogger, observer: 'obs-big', runs: ['r1'], live: { resyncMs: 600_000, nodesMs: 600_000, throttleMs: 20 } });
    const server = new ObserverServer({ observer, clock: systemClock, host: '127.0.0.1', port: 0, logger: silentLogger });
    try {
      observer.start();
      const base = await server.start();
      const started = wallMonotonic();
      const response = await fetch(`${base}/api/runs/r1`, { signal: AbortSignal.timeout(60_000) });
      expect(response.status).toBe(200);
      const status = (await response.json()) as RunStatus & { storeError: unknown };
      expect(wallMonotonic() - started).toBeLessThan(60_000);
      expect(status.storeError).toBeNull();
      expect(status.nodes.map((n) => n.node)).toEqual(['sane']);
      expect(status.problems.map((p) => p.key)).toContain(run.keys.node('huge'));
      const page = await (await fetch(`${base}/runs/r1`)).text();
      expect(page).toContain(run.keys.node('huge'));
      expect(page.length).toBeLessThan(200_000); // not 130,000 item links
      const nodes = (await (await fetch(`${base}/api/runs/r1/nodes`)).json()) as unknown[];
      expect(nodes).toHaveLength(1);
      const item = await fetch(`${base}/api/runs/r1/items/${items[2]}`);
      expect(item.status).toBe(200);
      expect(((await item.json()) as { leaseProblem: string }).leaseProblem).toContain('field "failedBy" holds 5000 entries');
    } finally {
      await server.stop();
      await observer.stop();
    }
  });
});
