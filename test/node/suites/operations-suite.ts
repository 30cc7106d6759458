import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { itemId, runKeys } from '../../../src/layout/keys.js';
import type { ControlRecord } from '../../../src/records/control-record.js';
import type { FailureRecord } from '../../../src/records/failure-record.js';
import type { NodeRecord } from '../../../src/records/node-record.js';
import { overwrite } from '../../../src/store/store.js';
import { until } from '../../support/until.js';
import { useCluster, keysUnder, publishRun, readJson, readLeases, readResults, type StoreTarget } from '../support/cluster-world.js';
import { nodeCli } from '../support/node-process.js';
import { wallSleep } from '../../support/wall-clock.js';

const TTL = 3_000;
const SIM = ['--runner', 'sim', '--no-gossip', '--sim-step-ms', '50', '--control-poll-ms', '200'];
const FAST = [...SIM, '--sim-speed', '1000'];
const id = (i: number): string => itemId({ start: i * 100, end: (i + 1) * 100 });

/** Operator control, failures and bad data, with real node processes (issue 4). */
export function operationsTests(name: string, makeTarget: () => Promise<StoreTarget>): void {
  describe(`operating a cluster on ${name}`, () => {
    const fx = useCluster(makeTarget, 'ops');
    const cli = (...args: string[]) => execa('node', [nodeCli, ...args, '--store', fx.target.url, '--run', fx.run], { reject: false, env: fx.target.env });
    const nodeState = async (node: string) => (await readJson<NodeRecord>(fx.target.store, runKeys(fx.run).node(node)))?.state;

    it('pause --all stops claiming, resume --all goes on, drain --node finishes the current item and exits', async () => {
      await publishRun(fx.target.store, { run: fx.run, items: 24, ttlMs: TTL });
      const a = fx.cluster.join('a', [...SIM, '--sim-speed', '300']);
      const b = fx.cluster.join('b', [...SIM, '--sim-speed', '300', '--exit-when-done']);
      await Promise.all([a.claimed(), b.claimed()]);

      const paused = await cli('pause', '--all');
      expect(paused.exitCode, paused.stderr).toBe(0);
      expect(paused.stdout).toContain('pause requested for every node');
      await until(() => Promise.all([nodeState('a'), nodeState('b')]), (s) => s.every((x) => x === 'paused'), 'both nodes paused');
      const whilePaused = (await readResults(fx.target.store, fx.run)).size;
      expect(whilePaused).toBeLessThan(24);
      await wallSleep(1_000); // a window in which nothing may happen
      expect((await readResults(fx.target.store, fx.run)).size).toBe(whilePaused);

      expect((await cli('resume', '--all')).exitCode).toBe(0);
      await until(() => readResults(fx.target.store, fx.run).then((r) => r.size), (size) => size > whilePaused, 'work after resume');

      const drained = await cli('drain', '--node', 'a');
      expect(drained.exitCode).toBe(0);
      expect(await a.exited).toEqual({ code: 0, signal: null });
      expect(a.text.join('\n')).toContain('drained');
      expect(await readJson<NodeRecord>(fx.target.store, runKeys(fx.run).node('a'))).toMatchObject({ state: 'stopped', reason: 'drained', items: [] });
      // The drained node cleared its request, so a restart under the same id would not drain at once.
      expect(await readJson<ControlRecord>(fx.target.store, runKeys(fx.run).control('a'))).toMatchObject({ drain: false });
      expect((await b.exited).code).toBe(0);
      expect((await readResults(fx.target.store, fx.run)).size).toBe(24);
      // Drain let the current item finish: nothing was released half-done.
      expect(await keysUnder(fx.target.store, runKeys(fx.run).failuresPrefix)).toEqual([]);
    });

    it('control commands refuse bad targets with one line', async () => {
      await publishRun(fx.target.store, { run: fx.run, items: 1, ttlMs: TTL });
      const both = await cli('pause');
      expect(both.exitCode).toBe(2);
      expect(both.stderr.trim()).toBe('replay-node: pause needs exactly one of --node ID or --all');
      const missing = await execa('node', [nodeCli, 'drain', '--all', '--store', fx.target.url, '--run', 'no-such-run'], { reject: false, env: fx.target.env });
      expect(missing.exitCode).toBe(2);
      expect(missing.stderr.split('\n').filter(Boolean)).toHaveLength(1);
      expect(missing.stderr).toContain('no-such-run');
    });

    it('a failed attempt is recorded and retried elsewhere; an item that always fails ends failed after maxAttempts', async () => {
      await publishRun(fx.target.store, { run: fx.run, items: 8, ttlMs: TTL, maxAttempts: 3 });
      const faults = JSON.stringify({ crashAt: [{ item: id(2), block: 250, attempt: 1 }, { item: id(5), block: 550 }] });
      // Paused until all three are up, so that each knows the others when the first failure comes.
      expect((await cli('pause', '--all')).exitCode).toBe(0);
      const nodes = ['f1', 'f2', 'f3'].map((node) => fx.cluster.join(node, [...FAST, '--exit-when-done', '--sim-faults', faults]));
      await until(() => Promise.all(['f1', 'f2', 'f3'].map(nodeState)), (s) => s.every((x) => x === 'paused'), 'three paused nodes');
      expect((await cli('resume', '--all')).exitCode).toBe(0);
      expect((await Promise.all(nodes.map((p) => p.exited))).map((e) => e.code)).toEqual([0, 0, 0]);

      const results = await readResults(fx.target.store, fx.run);
      expect([...results.keys()].sort()).toEqual([0, 1, 2, 3, 4, 6, 7].map(id));
      const once = await Promise.all((await keysUnder(fx.target.store, runKeys(fx.run).failuresOf(id(2)))).map((k) => readJson<FailureRecord>(fx.target.store, k)));
      expect(once).toHaveLength(1);
      expect(once[0]).toMatchObject({ reason: 'crashed', final: false, attempt: 1 });
      expect(once[0]!.logTail.join('\n')).toContain('simulated crash at block 250');
      // Retried by another node than the one that failed it.
      expect(results.get(id(2))!.node).not.toBe(once[0]!.node);

      const always = await Promise.all((await keysUnder(fx.target.store, runKeys(fx.run).failuresOf(id(5)))).map((k) => readJson<FailureRecord>(fx.target.store, k)));
      expect(always.map((f) => f!.final)).toEqual([false, false, true]);
      expect(new Set(always.map((f) => f!.node)).size).toBeGreaterThanOrEqual(2);
      expect((await readLeases(fx.target.store, fx.run)).get(id(5))).toMatchObject({ state: 'failed' });
    });

    it('corrupt lease and node objects and foreign keys are reported and skipped; the run completes', async () => {
      await publishRun(fx.target.store, { run: fx.run, items: 10, ttlMs: TTL });
      const keys = runKeys(fx.run);
      const junk: Array<[string, string]> = [
        [keys.lease(id(0)), '{"schema": "replay/lease/v1", "holder": '],
        [keys.lease(id(1)), JSON.stringify({ schema: 'something/else' })],
        [keys.node('ghost'), 'not json at all'],
        [`${keys.nodesPrefix}readme.txt`, 'hello'],
        [`${keys.leasesPrefix}not-an-item.json`, '{}'],
        [`${keys.resultsPrefix}${id(9)}.json.bak`, 'old'],
        [`${keys.root}scratch/notes.txt`, 'an operator was here'],
      ];
      for (const [key, body] of junk) await fx.target.store.put(key, body, overwrite);
      const nodes = ['c1', 'c2'].map((node) => fx.cluster.join(node, [...FAST, '--exit-when-done']));
      expect((await Promise.all(nodes.map((p) => p.exited))).map((e) => e.code)).toEqual([0, 0]);
      expect((await readResults(fx.target.store, fx.run)).size).toBe(10);
      const leases = await readLeases(fx.target.store, fx.run);
      expect(leases.get(id(0))).toMatchObject({ state: 'done' });
      expect(leases.get(id(1))).toMatchObject({ state: 'done' });
      const logs = nodes.flatMap((p) => p.logs);
      expect(logs.some((l) => l.msg === 'replacing a corrupt lease object')).toBe(true);
      expect(logs.some((l) => typeof l.msg === 'string' && l.msg.includes('corrupt object') && l.msg.includes('ghost'))).toBe(true);
      expect(await keysUnder(fx.target.store, `${keys.root}scratch/`)).toHaveLength(1);
    });
  });
}
