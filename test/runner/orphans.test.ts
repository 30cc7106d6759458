import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import type { Logger } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createRunner } from '../../src/runner/create-runner.js';
import { pidFilePath, readPidFiles, writePidFile } from '../../src/runner/nodeos/nodeos-pid-file.js';
import { processStartTime } from '../../src/runner/nodeos/process-identity.js';
import { systemClock } from '../../src/time/system-clock.js';
import { alive, createWorldIn, FAKE_NODEOS, FAST, type World } from './support/nodeos-world.js';
import { capturingLogger } from './support/capture-logger.js';
import { wallSleep } from '../support/wall-clock.js';

/**
 * No nodeos outlives its replay-node: kill the process that runs the nodeos
 * runner (SIGKILL: nothing of ours runs; SIGTERM: exit hooks run) and check
 * that the nodeos it started is gone.
 */
const SCRIPT = fileURLToPath(new URL('./support/run-one-item.ts', import.meta.url));
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function waitFor(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 10_000): Promise<void> {
  for (let waited = 0; waited < timeoutMs; waited += 25) {
    if (await check()) return;
    await wallSleep(25);
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('no orphan nodeos', () => {
  for (const signal of ['SIGKILL', 'SIGTERM'] as const) {
    it(`nodeos dies when its replay-node gets ${signal}`, async () => {
      const dir = await mkdtemp(join(tmpdir(), 'nodeos-orphan-'));
      dirs.push(dir);
      const pidFile = join(dir, 'nodeos.pid');
      const child = execa('node', ['--import', 'tsx', SCRIPT, dir, pidFile], { reject: false });
      await waitFor(async () => (await readFile(pidFile, 'utf8').catch(() => '')) !== '', 'nodeos to start');
      const nodeosPid = Number(await readFile(pidFile, 'utf8'));
      expect(alive(nodeosPid)).toBe(true);
      child.kill(signal);
      const exit = await child;
      expect(exit.signal ?? exit.exitCode).toBeTruthy();
      await waitFor(() => !alive(nodeosPid), `nodeos ${nodeosPid} to die`, 5_000);
    });
  }

  // PATH is this worker process's own (vitest runs each file in its own fork) and is restored at once.
  const setprivs: Array<[string, string | undefined, RegExp]> = [
    ['missing', undefined, /^setpriv with --pdeathsig not found; install util-linux \(Debian: apt-get install util-linux\) so nodeos dies with replay-node$/],
    ['unable to set the signal', 'echo "setpriv: set parent death signal failed: Operation not permitted" >&2; exit 1',
      /^setpriv --pdeathsig KILL fails here \(setpriv: set parent death signal failed: Operation not permitted\); run replay-node where/],
  ];
  for (const [what, body, message] of setprivs) {
    it(`prepare refuses to start when setpriv is ${what}, before it takes the data directory`, async () => {
      const dir = await mkdtemp(join(tmpdir(), 'nodeos-setpriv-'));
      dirs.push(dir);
      if (body !== undefined) {
        const script = ['#!/bin/sh', 'if [ "$1" = "--help" ]; then echo " --pdeathsig keep|clear|<signame>"; exit 0; fi', body, ''].join('\n');
        await writeFile(join(dir, 'setpriv'), script);
        await chmod(join(dir, 'setpriv'), 0o755);
      }
      const world = await createWorldIn(dir);
      const path = process.env.PATH;
      process.env.PATH = dir;
      try {
        await expect(world.runner().prepare()).rejects.toThrow(message);
      } finally {
        process.env.PATH = path;
      }
      await expect(readdir(world.dataDir)).rejects.toMatchObject({ code: 'ENOENT' });
      await world.cleanup();
    });
  }
});

/**
 * The second line of defence (issue 13): where the parent-death signal
 * cannot be set, a nodeos outlives a SIGKILLed replay-node; the next
 * replay-node on that data directory finds it by its pid file (pid and
 * /proc start time, never by name) and stops it before doing anything.
 */
describe('leftover nodeos of an earlier replay-node', () => {
  const children: Array<{ kill(signal?: NodeJS.Signals): boolean }> = [];
  const worlds: World[] = [];
  afterEach(async () => {
    children.splice(0).forEach((c) => c.kill('SIGKILL'));
    await Promise.all(worlds.splice(0).map((w) => w.cleanup()));
  });

  async function newRunner(dir: string, logger: Logger, env: Record<string, string> = {}) {
    const world = await createWorldIn(dir);
    worlds.push(world);
    const runner = createRunner('nodeos', { nodeos: { dataDir: world.dataDir, nodeosBin: FAKE_NODEOS, ...FAST, env } }, { clock: systemClock, logger, store: world.store });
    return { world, runner };
  }

  /**
   * A setpriv that cannot set the parent-death signal, first on the PATH of
   * the child replay-node only: it passes the runner's preflight and execs
   * nodeos without the signal, which is the situation issue 13 describes.
   * No test-only switch in the runner is needed.
   */
  async function setprivWithoutPdeathsig(dir: string): Promise<string> {
    const bin = join(dir, 'bin');
    await mkdir(bin, { recursive: true });
    await writeFile(join(bin, 'setpriv'), [
      '#!/bin/sh',
      'if [ "$1" = "--help" ]; then echo " --pdeathsig keep|clear|<signame>"; exit 0; fi',
      'while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do shift; done',
      'shift',
      'exec "$@"',
      '',
    ].join('\n'));
    await chmod(join(bin, 'setpriv'), 0o755);
    return bin;
  }

  it('a new runner stops the nodeos a SIGKILLed replay-node left running, before it starts its own', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nodeos-leftover-'));
    dirs.push(dir);
    const dataDir = join(dir, 'data');
    const fakePidFile = join(dir, 'nodeos.pid');
    const bin = await setprivWithoutPdeathsig(dir);
    // 5 blocks/s: the fake's next log line (which would kill the orphan by EPIPE) is minutes away.
    const child = execa('node', ['--import', 'tsx', SCRIPT, dir, fakePidFile], {
      reject: false, env: { PATH: `${bin}${delimiter}${process.env.PATH ?? ''}`, FAKE_NODEOS_BPS: '5' },
    });
    children.push(child);
    await waitFor(async () => (await readFile(fakePidFile, 'utf8').catch(() => '')) !== '', 'nodeos to start', 60_000);
    const nodeosPid = Number(await readFile(fakePidFile, 'utf8'));
    await waitFor(async () => (await readPidFiles(dataDir).catch(() => [])).length > 0, 'the pid file', 30_000);
    const [recorded] = await readPidFiles(dataDir);
    expect(recorded!.path).toBe(pidFilePath(dataDir, nodeosPid));
    expect(recorded!.record).toMatchObject({ pid: nodeosPid, startTime: await processStartTime(nodeosPid), bin: FAKE_NODEOS, itemId: '0000000100-0001000000' });

    child.kill('SIGKILL');
    await child;
    await wallSleep(500);
    expect(await processStartTime(nodeosPid)).toBeDefined(); // orphaned: nothing killed it

    const { logger, messages } = capturingLogger();
    const secondPidFile = join(dir, 'second-nodeos.pid');
    const { world, runner } = await newRunner(dir, logger, { FAKE_NODEOS_PID_FILE: secondPidFile });
    await runner.prepare();
    expect(await processStartTime(nodeosPid)).toBeUndefined();
    expect(messages.filter((m) => m.startsWith('stopped a leftover nodeos'))).toEqual([
      `stopped a leftover nodeos (pid ${nodeosPid}, item 0000000100-0001000000) of an earlier replay-node on ${dataDir}`,
    ]);
    expect(messages.filter((m) => m.startsWith('took over the lock'))).toHaveLength(1);
    expect(await readPidFiles(dataDir)).toEqual([]);
    // No nodeos of the new runner ran before prepare resolved, and the one it starts now is another process.
    await expect(readFile(secondPidFile)).rejects.toMatchObject({ code: 'ENOENT' });
    const snap = await world.putSnapshot(100);
    const { result } = await world.run(runner, world.item(100, 150, snap));
    expect(result.headBlock).toBe(150);
    expect(Number(await readFile(secondPidFile, 'utf8'))).not.toBe(nodeosPid);
    await runner.close();
    expect((await readdir(dataDir)).filter((name) => name.startsWith('nodeos-') || name.endsWith('.tmp') || name.endsWith('.lock'))).toEqual([]);
  });

  it('never signals a pid whose start time or host differs from the record', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nodeos-leftover-'));
    dirs.push(dir);
    const dataDir = join(dir, 'data');
    await mkdir(dataDir, { recursive: true });
    const reused = execa(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { reject: false });
    const elsewhere = execa(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { reject: false });
    children.push(reused, elsewhere);
    const reusedStart = await processStartTime(reused.pid!);
    const elsewhereStart = await processStartTime(elsewhere.pid!);
    await writePidFile(dataDir, { pid: reused.pid!, startTime: reusedStart! + 1, hostname: hostname(), bin: 'nodeos', itemId: 'i1' });
    await writePidFile(dataDir, { pid: elsewhere.pid!, startTime: elsewhereStart!, hostname: 'elsewhere', bin: 'nodeos', itemId: 'i2' });
    await writeFile(pidFilePath(dataDir, 999_999_999), 'not a record');

    const { logger, messages } = capturingLogger();
    const { runner } = await newRunner(dir, logger);
    await runner.prepare();
    await wallSleep(300); // a stray SIGINT would have landed by now
    expect(await processStartTime(reused.pid!)).toBe(reusedStart);
    expect(await processStartTime(elsewhere.pid!)).toBe(elsewhereStart);
    expect(messages.filter((m) => m.includes('leftover'))).toEqual([]);
    expect(await readPidFiles(dataDir)).toEqual([]);
  });
});
