import { lstat, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { itemId, runKeys } from '../../src/layout/keys.js';
import { decodeLease } from '../../src/records/lease-record.js';
import { decodeResult } from '../../src/records/result-record.js';
import { createFileStore } from '../../src/store/file.js';
import { getIfExists } from '../../src/store/get-if-exists.js';
import { systemClock } from '../../src/time/system-clock.js';
import { NodeProcess, type LogLine } from '../node/support/node-process.js';
import { runBuiltCli } from '../support/cli.js';
import { FOREIGN_KINDS, placeForeign } from './file-store-support.js';

/**
 * Issue 19 with real `replay-node join` processes on a file store: a
 * directory, a FIFO, a symbolic link and a socket at a lease key and at a
 * result key. Before, a directory stopped the node (exit 1) and a FIFO hung
 * it past its first SIGTERM. Now each is reported in one log line, nothing
 * hangs, SIGTERM is honoured and every item ends done (those at result keys
 * once removed: a result is never overwritten).
 */
const RUN = 'foreign';
const ITEMS = 10;
const SPAN = 100;
const id = (i: number): string => itemId({ start: i * SPAN, end: (i + 1) * SPAN });
/** Items 1-4: something foreign at the lease key; 5-8: at the result key; 0 and 9 untouched. */
const atLease = FOREIGN_KINDS.map((kind, i) => ({ kind, item: id(1 + i) }));
const atResult = FOREIGN_KINDS.map((kind, i) => ({ kind, item: id(5 + i) }));

let dir: string;
let root: string;
let outside: string;

async function publish(run: string, ttlMs: number): Promise<void> {
  const spacing = join(dir, `${run}.tsv`);
  await writeFile(spacing, Array.from({ length: ITEMS }, (_, i) => `${i * SPAN}\t${(i + 1) * SPAN}\t${SPAN}\n`).join(''));
  const published = await runBuiltCli('replay-manifest', ['publish', '--store', `file://${root}`, '--run', run, '--spacing', spacing, '--lease-ttl-ms', String(ttlMs)]);
  expect(published.exitCode, published.stderr).toBe(0);
}

const track = (node: NodeProcess): NodeProcess => (started.push(node), node);
const reportsOf = (node: NodeProcess, path: string): LogLine[] => node.logs.filter((l) => l.msg.startsWith('file store: ') && l.path === path);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'file-store-join-'));
  root = join(dir, 'store');
  outside = join(dir, 'outside.txt');
});
const started: NodeProcess[] = [];
afterEach(async () => {
  for (const node of started.splice(0)) node.signal('SIGKILL');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('replay-node join on a file store with foreign entries at lease and result keys', () => {
  it('reports each once, replaces those at lease keys, waits for those at result keys to be removed, then finishes (exit 0)', async () => {
    await publish(RUN, 3_000);
    const keys = runKeys(RUN);
    const placed = [...atLease.map((p) => ({ ...p, key: keys.lease(p.item) })), ...atResult.map((p) => ({ ...p, key: keys.result(p.item) }))];
    for (const { kind, key } of placed) await placeForeign(kind, join(root, key), outside);

    const node = track(new NodeProcess('n1', ['--store', `file://${root}`, '--run', RUN, '--runner', 'sim', '--sim-speed', '0', '--no-gossip', '--exit-when-done']));
    // A result is never overwritten (design §3): one at a result key that is not the store's file reads as a
    // corrupt result, and the item waits for the operator to remove it, as the report line says (rm <path>).
    for (const { kind, key } of atResult.slice(1).map((p) => ({ ...p, key: keys.result(p.item) }))) {
      const path = join(root, key);
      const report = await node.waitForLog((l) => l.msg.startsWith('file store: ') && l.path === path, `the report of the ${kind} at ${key}`, 60_000);
      expect(report.msg).toContain(`remove it (rm ${path})`);
      await rm(path);
    }
    const exit = await node.exited;
    expect(exit, node.tail()).toEqual({ code: 0, signal: null });
    expect(node.text).toContain('replay-node: run complete');

    for (const { kind, key } of placed) {
      const lines = reportsOf(node, join(root, key));
      expect(lines, `${kind} at ${key}`).toHaveLength(1);
      expect(lines[0]!.level, `${kind} at ${key}`).toBe(40); // warn
    }
    const store = createFileStore(root, { clock: systemClock, onForeign: () => {} });
    for (let i = 0; i < ITEMS; i++) {
      const lease = await getIfExists(store, keys.lease(id(i)));
      expect(decodeLease(keys.lease(id(i)), lease!.body).state, id(i)).toBe('done');
      const result = await getIfExists(store, keys.result(id(i)));
      expect(decodeResult(keys.result(id(i)), result!.body).item, id(i)).toBe(id(i));
      expect((await lstat(join(root, keys.result(id(i))))).isFile()).toBe(true);
    }
    // The links went; what they pointed to was never read or written.
    expect(await readFile(outside, 'utf8')).toBe('outside the store\noutside the store\n');
  });

  it('a directory with entries at a lease key: that item is reported once and waits, the rest finish; once the operator moves it, the run completes', async () => {
    const run = 'foreign-dir';
    await publish(run, 3_000);
    const keys = runKeys(run);
    const blocked = id(3);
    const path = join(root, keys.lease(blocked));
    await mkdir(path, { recursive: true });
    await writeFile(join(path, 'stray.json'), '{"stray":true}\n');

    const node = track(new NodeProcess('n2', ['--store', `file://${root}`, '--run', run, '--runner', 'sim', '--sim-speed', '0', '--no-gossip', '--exit-when-done']));
    const report = await node.waitForLog((l) => l.item === blocked && l.msg.startsWith(`cannot claim item ${blocked}`), 'the report of the blocked item', 60_000);
    expect(report.msg).toContain(`${path} is a directory with entries`);
    const store = createFileStore(root, { clock: systemClock, onForeign: () => {} });
    for (let i = 0; i < ITEMS; i++) {
      if (id(i) === blocked) continue;
      await expect.poll(async () => (await getIfExists(store, keys.result(id(i)))) !== undefined, { timeout: 60_000, interval: 200 }).toBe(true);
    }
    expect(await getIfExists(store, keys.result(blocked))).toBeUndefined();
    await rename(path, `${path}.moved`); // what the line says to do

    const exit = await node.exited;
    expect(exit, node.tail()).toEqual({ code: 0, signal: null });
    expect(node.logs.filter((l) => l.msg.startsWith(`cannot claim item ${blocked}`))).toHaveLength(1);
    const result = await getIfExists(store, keys.result(blocked));
    expect(decodeResult(keys.result(blocked), result!.body).item).toBe(blocked);
    expect(await readFile(join(`${path}.moved`, 'stray.json'), 'utf8')).toBe('{"stray":true}\n');
  });

  it('a directory with entries at a result key: the replayed result is kept, said once, and written once the operator moves it', async () => {
    const run = 'foreign-result-dir';
    await publish(run, 3_000);
    const keys = runKeys(run);
    const blocked = id(6);
    const path = join(root, keys.result(blocked));
    await mkdir(path, { recursive: true });
    await writeFile(join(path, 'stray.json'), '{"stray":true}\n');

    const node = track(new NodeProcess('n3', ['--store', `file://${root}`, '--run', run, '--runner', 'sim', '--sim-speed', '0', '--no-gossip', '--exit-when-done']));
    const report = await node.waitForLog((l) => l.item === blocked && l.msg.startsWith(`cannot write the result of ${blocked}`), 'the report of the unwritable result', 60_000);
    expect(report.msg).toContain(`${path} is a directory with entries`);
    await rename(path, `${path}.moved`); // what the line says to do

    const exit = await node.exited;
    expect(exit, node.tail()).toEqual({ code: 0, signal: null });
    expect(node.logs.filter((l) => l.msg.startsWith(`cannot write the result of ${blocked}`))).toHaveLength(1);
    const store = createFileStore(root, { clock: systemClock, onForeign: () => {} });
    for (let i = 0; i < ITEMS; i++) {
      const result = await getIfExists(store, keys.result(id(i)));
      expect(decodeResult(keys.result(id(i)), result!.body).item, id(i)).toBe(id(i));
    }
    // Replayed once, under its first lease: the kept result was written, not a later replay's.
    expect(decodeResult(keys.result(blocked), (await getIfExists(store, keys.result(blocked)))!.body).epoch).toBe(1);
  });

  it('a FIFO at a lease key and at a result key: no hang, SIGTERM is honoured at once', async () => {
    const run = 'fifo-term';
    // A long TTL: the node is still waiting to take over the FIFO's "lease" when SIGTERM comes.
    await publish(run, 120_000);
    const keys = runKeys(run);
    const leasePath = join(root, keys.lease(id(3)));
    const resultPath = join(root, keys.result(id(6)));
    await placeForeign('FIFO', leasePath, outside);
    await placeForeign('FIFO', resultPath, outside);

    const node = track(new NodeProcess('n2', ['--store', `file://${root}`, '--run', run, '--runner', 'sim', '--sim-speed', '0', '--no-gossip']));
    await node.waitForLog((l) => l.msg.startsWith('file store: ') && l.path === leasePath, 'the report of the FIFO at the lease key', 60_000);
    await node.waitForLog((l) => l.msg.startsWith('file store: ') && l.path === resultPath, 'the report of the FIFO at the result key', 60_000);
    node.signal('SIGTERM');
    const exit = await node.exited;
    expect(exit, node.tail()).toEqual({ code: 0, signal: null });
    expect(node.text).toContain('replay-node: stopped (signal SIGTERM)');
    expect(reportsOf(node, leasePath)).toHaveLength(1);
    expect(reportsOf(node, resultPath)).toHaveLength(1);
  });
});
