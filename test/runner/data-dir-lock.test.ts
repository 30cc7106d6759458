import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import type { Logger } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createRunner } from '../../src/runner/create-runner.js';
import { LOCK_FILE, type LockOwner } from '../../src/runner/nodeos/data-dir-lock.js';
import { parseStat, processStartTime } from '../../src/runner/nodeos/process-identity.js';
import { RunnerConfigError } from '../../src/runner/runner-config-error.js';
import { systemClock } from '../../src/time/system-clock.js';
import { createWorld, FAKE_NODEOS, FAST, type World } from './support/nodeos-world.js';
import { capturingLogger } from './support/capture-logger.js';

/**
 * One replay-node per data directory (issue 13): the nodeos runner's
 * prepare takes `<dataDir>/replay-node.lock`, refuses while a live owner
 * holds it, and takes over one whose owner is gone.
 */
let world: World;
const children: Array<{ kill(): boolean }> = [];
afterEach(async () => {
  children.splice(0).forEach((c) => c.kill());
  await world?.cleanup();
});

function runnerWithLog(w: World, logger: Logger) {
  return createRunner('nodeos', { nodeos: { dataDir: w.dataDir, nodeosBin: FAKE_NODEOS, ...FAST } }, { clock: systemClock, logger, store: w.store });
}

async function readLock(w: World): Promise<LockOwner> {
  return JSON.parse(await readFile(join(w.dataDir, LOCK_FILE), 'utf8')) as LockOwner;
}

async function writeLock(w: World, owner: Partial<LockOwner> | string): Promise<void> {
  const text = typeof owner === 'string' ? owner : JSON.stringify({ hostname: hostname(), startedAt: '2026-01-01T00:00:00.000Z', token: 'earlier', ...owner });
  await mkdir(w.dataDir, { recursive: true });
  await writeFile(join(w.dataDir, LOCK_FILE), text);
}

async function deadPid(): Promise<number> {
  const child = execa(process.execPath, ['-e', '']);
  await child;
  return child.pid!;
}

describe('data directory lock', () => {
  it('refuses a second runner on the same data directory until the first closes', async () => {
    world = await createWorld();
    const first = world.runner();
    await first.prepare();
    const lock = await readLock(world);
    expect(lock).toMatchObject({ pid: process.pid, hostname: hostname(), startTime: await processStartTime(process.pid) });

    const second = world.runner();
    const refusal = await second.prepare().then(() => undefined, (error: unknown) => error);
    expect(refusal).toBeInstanceOf(RunnerConfigError);
    expect((refusal as Error).message).toBe(
      `the data directory ${world.dataDir} is in use by replay-node pid ${process.pid} on host ${hostname()} (since ${lock.startedAt}); stop it or give this node another --data-dir`,
    );

    await first.close();
    await expect(readFile(join(world.dataDir, LOCK_FILE))).rejects.toMatchObject({ code: 'ENOENT' });
    await second.prepare();
    const taken = await readLock(world);
    expect(taken.token).not.toBe(lock.token);
    // close() is idempotent and never deletes a lock that is no longer its own.
    await first.close();
    expect((await readLock(world)).token).toBe(taken.token);
  });

  it('refuses while another live process holds it', async () => {
    world = await createWorld();
    const holder = execa(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { reject: false });
    children.push(holder);
    const startTime = await processStartTime(holder.pid!);
    await writeLock(world, { pid: holder.pid!, startTime });
    await expect(world.runner().prepare()).rejects.toThrow(`is in use by replay-node pid ${holder.pid} on host ${hostname()} (since 2026-01-01T00:00:00.000Z)`);
    expect((await readLock(world)).token).toBe('earlier');
  });

  const stale: Array<[string, () => Promise<Partial<LockOwner> | string>, string]> = [
    ['its owner is dead', async () => ({ pid: await deadPid(), startTime: 1 }), 'is gone'],
    ['its pid now names another process (start time differs)', async () => ({ pid: process.pid, startTime: (await processStartTime(process.pid))! + 1 }), 'is gone'],
    ['it is corrupt', async () => 'not a lock', 'its lock file was unreadable'],
    ['it is from another host', async () => ({ pid: process.pid, startTime: (await processStartTime(process.pid))!, hostname: 'elsewhere' }), 'on host elsewhere'],
  ];
  for (const [why, owner, says] of stale) {
    it(`takes over the lock when ${why}, and says so once`, async () => {
      world = await createWorld();
      await writeLock(world, await owner());
      const { logger, messages } = capturingLogger();
      const runner = runnerWithLog(world, logger);
      await runner.prepare();
      expect((await readLock(world)).pid).toBe(process.pid);
      const lines = messages.filter((m) => m.startsWith(`took over the lock of the data directory ${world.dataDir}: `));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(says);
      await runner.close();
      await expect(readFile(join(world.dataDir, LOCK_FILE))).rejects.toMatchObject({ code: 'ENOENT' });
    });
  }
});

describe('process identity', () => {
  it('reads the start time after a command name holding spaces and parentheses', () => {
    const rest = Array.from({ length: 50 }, (_, i) => String(i + 3));
    rest[0] = 'S';
    expect(parseStat(`42 (a (b) c) ${rest.join(' ')}`)).toBe(22);
    rest[0] = 'Z';
    expect(parseStat(`42 (nodeos) ${rest.join(' ')}`)).toBeUndefined();
  });

  it('knows a live process and forgets an exited one', async () => {
    expect(await processStartTime(process.pid)).toBeGreaterThan(0);
    expect(await processStartTime(await deadPid())).toBeUndefined();
  });
});
