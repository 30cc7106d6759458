import { spawn } from 'node:child_process';
import { access } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { until } from '../support/until.js';
import { s3Verdict } from '../support/s3-target.js';
import { describeS3, s3TestTarget } from '../support/s3.js';

const holder = fileURLToPath(new URL('./rgw-holder.ts', import.meta.url));
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const exists = (path: string): Promise<boolean> => access(path).then(() => true, () => false);

describe('S3 availability verdict', () => {
  it('runs with a server; without one skips loudly, or fails when REPLAY_REQUIRE_S3=1', () => {
    const lines: string[] = [];
    const write = (text: string) => void lines.push(text);
    expect(s3Verdict({ ok: true, target: { source: 'rgw', region: 'r', accessKeyId: 'a', secretAccessKey: 's' } }, {}, write)).toBe('run');
    expect(lines).toEqual([]);
    expect(s3Verdict({ ok: false, reason: 'REPLAY_S3=off' }, {}, write)).toBe('skip');
    expect(lines.join('')).toMatch(/S3 SUITES SKIPPED: REPLAY_S3=off/);
    expect(() => s3Verdict({ ok: false, reason: 'no packages' }, { REPLAY_REQUIRE_S3: '1' }, write)).toThrow(/^REPLAY_REQUIRE_S3=1 but no S3 server for the tests: no packages$/);
  });
});

describeS3('the throwaway RGW harness', () => {
  const s3 = s3TestTarget();
  // Only the harness's own RGW has a guardian; an external endpoint (REPLAY_S3_ENDPOINT) is not ours to kill.
  it.skipIf(!(s3.ok && s3.target.source === 'rgw'))(
    'leaves no ceph process and no data directory behind when its owner is killed (the guardian cleans up)',
    async () => {
      const child = spawn(process.execPath, ['--import', 'tsx', holder], { cwd: repoRoot, stdio: ['pipe', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      const info = await new Promise<{ endpoint: string; dataDir: string; pids: number[] }>((resolve, reject) => {
        createInterface({ input: child.stdout! }).once('line', (line) => resolve(JSON.parse(line) as never));
        child.once('close', (code) => reject(new Error(`holder exited (${code}): ${stderr}`)));
      });
      expect(info.pids.length).toBe(3);
      expect(info.pids.every(alive)).toBe(true);
      expect(info.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const gone = new Promise((resolve) => child.once('close', resolve));
      child.kill('SIGKILL');
      await gone;
      // The daemons are not our children: no exit event to await, so poll (bounded).
      await until(() => info.pids.filter(alive), (left) => left.length === 0, 'all ceph daemons gone', 30_000);
      await until(() => exists(info.dataDir), (there) => !there, 'the data directory removed', 30_000);
    },
    120_000,
  );
});
