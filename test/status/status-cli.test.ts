import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunStatus } from '../../src/status/index.js';
import { createFileStore } from '../../src/store/file.js';
import { systemClock } from '../../src/time/system-clock.js';
import { runBuiltCli } from '../support/cli.js';
import { RunFixture } from './support/run-fixture.js';

let dir: string;
let url: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'status-cli-'));
  url = pathToFileURL(dir).href;
  const store = createFileStore(dir, { clock: systemClock });
  const run = new RunFixture(store, 'r1');
  await run.publish({ count: 6 });
  const [a, b, c, d] = run.itemIds();
  await run.node('host-a', { items: [{ item: b!, epoch: 1, startedAt: 'x', headBlock: 1500, blocksPerSecond: 20 }] });
  await run.node('host-w', { state: 'waiting', items: [], storeUnavailableSince: '2026-01-01T10:00:00.000Z' });
  await run.done(a!);
  await run.lease(b!, { holder: 'host-a' });
  await run.lease(c!, { state: 'failed', attempts: 3, failedBy: ['x', 'y', 'z'] });
  await run.failure(c!, { reason: 'corrupt-snapshot', message: 'bad frame', final: true });
  const canonical = await run.done(d!);
  await run.conflict(d!, canonical, { node: 'host-b', endHash: 'c'.repeat(64) });
  await run.raw(`${run.keys.leasesPrefix}junk.json`, 'x');
  await store.close();
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('replay-node status', () => {
  it('--json prints the replay/status/v1 object', async () => {
    const out = await runBuiltCli('replay-node', ['status', '--store', url, '--run', 'r1', '--json']);
    expect([out.exitCode, out.stderr]).toEqual([0, '']);
    const status = JSON.parse(out.stdout) as RunStatus;
    expect(status).toMatchObject({
      schema: 'replay/status/v1', run: 'r1', complete: true,
      items: { pending: 2, working: 1, expired: 0, released: 0, done: 1, failed: 1, conflict: 1, total: 6 },
      progress: { blocksDone: 2500, blocksTotal: 6000, blocksPerSecond: 20 },
    });
    expect(status.nodes.map((n) => [n.node, n.state, n.storeUnavailableSince])).toEqual([['host-a', 'working', null], ['host-w', 'waiting', '2026-01-01T10:00:00.000Z']]);
    expect(status.failed.map((f) => [f.item, f.reason])).toEqual([['0000002000-0000003000', 'corrupt-snapshot']]);
    expect(status.problems.map((p) => p.key)).toEqual(['runs/r1/leases/junk.json']);
  });

  it('prints a readable summary, node table, failures, conflicts and problems', async () => {
    const out = await runBuiltCli('replay-node', ['status', '--store', url, '--run', 'r1']);
    expect(out.exitCode).toBe(0);
    expect(out.stdout).toMatch(/^run {9}r1\n/);
    expect(out.stdout).toMatch(/items {7}pending 2 {2}working 1 {2}expired 0 {2}released 0 {2}done 1 {2}failed 1 {2}conflict 1 {2}\(total 6\)/);
    expect(out.stdout).toMatch(/\nhost-a +working +0000001000-0000002000 +1500 +20 /);
    // A node that found the store unavailable says since when (issue 12).
    expect(out.stdout).toMatch(/\nhost-w +waiting \(store unavailable since 2026-01-01T10:00:00.000Z\) +- /);
    expect(out.stdout).toMatch(/\nfailed items \(1\)\n/);
    expect(out.stdout).toMatch(/\nconflicts \(1\)\n.*\n0000003000-0000004000 +n1 +0+fa0 +host-b +c{64}/);
    expect(out.stdout).toMatch(/\nproblems \(1\)\n/);
  });

  it('a run without a manifest is a one-line error, exit 2', async () => {
    const out = await runBuiltCli('replay-node', ['status', '--store', url, '--run', 'nope']);
    expect([out.exitCode, out.stdout]).toEqual([2, '']);
    expect(out.stderr).toBe(`replay-node: run nope has no manifest in ${url.replace(/\/$/, '')}; list the runs with "replay-manifest list --store URL"`);
  });
});
