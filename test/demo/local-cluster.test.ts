import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeLease } from '../../src/records/lease-record.js';
import { decodeNodeRecord } from '../../src/records/node-record.js';
import { createFileStore } from '../../src/store/file.js';
import { getIfExists } from '../../src/store/get-if-exists.js';
import { listAll } from '../../src/store/store.js';
import { systemClock } from '../../src/time/system-clock.js';

/**
 * `npm start` (dist/demo/local-cluster.js) as a user runs it: in a fresh
 * directory, scaled further down so the test is quick, then stopped with
 * Ctrl-C (SIGINT to the whole process group, as a terminal sends it).
 */
const DEMO = fileURLToPath(new URL('../../dist/demo/local-cluster.js', import.meta.url));
const dirs: string[] = [];
const demos: ChildProcess[] = [];
afterEach(async () => {
  for (const d of demos.splice(0)) if (d.exitCode === null) process.kill(-d.pid!, 'SIGKILL');
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

function startDemo(cwd: string, speed: string): { child: ChildProcess; output: () => string; waitFor: (re: RegExp) => Promise<void>; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [DEMO], {
    cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, REPLAY_DEMO_SCALE: '20000', REPLAY_DEMO_SPEED: speed, REPLAY_DEMO_PORT: '0' },
  });
  demos.push(child);
  let text = '';
  const waiters: Array<{ re: RegExp; resolve: () => void }> = [];
  const onData = (chunk: Buffer): void => {
    text += chunk.toString('utf8');
    for (const w of [...waiters]) {
      if (!w.re.test(text)) continue;
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    output: () => text,
    waitFor: (re) => (re.test(text) ? Promise.resolve() : new Promise((resolve) => waiters.push({ re, resolve }))),
    exited,
  };
}

async function runState(cwd: string) {
  const store = createFileStore(join(cwd, '.replay', 'store'), { clock: systemClock });
  const [run] = await readdir(join(cwd, '.replay', 'store', 'runs'));
  const records = async <T>(prefix: string, decode: (k: string, b: Uint8Array) => T): Promise<T[]> => {
    const out: T[] = [];
    for await (const info of listAll(store, `runs/${run}/${prefix}`)) out.push(decode(info.key, (await getIfExists(store, info.key))!.body));
    return out;
  };
  const state = {
    results: (await readdir(join(cwd, '.replay', 'store', 'runs', run!, 'results')).catch(() => [])).length,
    leases: await records('leases/', decodeLease),
    nodes: await records('nodes/', decodeNodeRecord),
  };
  await store.close();
  return state;
}

describe('npm start: the local cluster', () => {
  it('replays the scaled EOS mainnet run with three nodes, retries the injected crash, and stops on Ctrl-C', async () => {
    const cwd = await mkdtemp(join(tmpdir(), 'demo-'));
    dirs.push(cwd);
    const demo = startDemo(cwd, '100000');
    await demo.waitFor(/complete in \d+ s: 860 results, 0 chain-continuity breaks, 0 conflicts, 0 failed/);
    expect(demo.output()).toMatch(/published run demo-\S+: 860 intervals/);
    expect(demo.output()).toMatch(/1 failed attempt\(s\) retried/);
    process.kill(-demo.child.pid!, 'SIGINT');
    expect(await demo.exited).toBe(0);
    const state = await runState(cwd);
    expect(state.results).toBe(860);
    expect(state.nodes.map((n) => n.state)).toEqual(['stopped', 'stopped', 'stopped']);
    expect(state.leases.every((l) => l.state === 'done')).toBe(true);
  }, 240_000);

  it('Ctrl-C in the middle stops every node gracefully: no lease is left held', async () => {
    const cwd = await mkdtemp(join(tmpdir(), 'demo-'));
    dirs.push(cwd);
    const demo = startDemo(cwd, '2000');
    await demo.waitFor(/\[\s*\d+ s\] [1-9]\d*\/860 intervals done/);
    process.kill(-demo.child.pid!, 'SIGINT');
    expect(await demo.exited).toBe(0);
    expect(demo.output()).toContain('stopping: the nodes release their leases');
    const state = await runState(cwd);
    expect(state.results).toBeLessThan(860);
    // A node still starting when Ctrl-C came does not join at all (no record); every one that joined stopped cleanly.
    expect(state.nodes.length).toBeGreaterThan(0);
    for (const n of state.nodes) expect([n.node, n.state, n.items.length]).toEqual([n.node, 'stopped', 0]);
    expect(state.leases.filter((l) => l.state === 'held')).toEqual([]);
  }, 240_000);
});
