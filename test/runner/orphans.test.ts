import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { alive } from './support/nodeos-world.js';

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
    await sleep(25);
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
});
