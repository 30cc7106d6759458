import { createServer } from 'node:net';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFileStore } from '../../src/store/file.js';
import { systemClock } from '../../src/time/system-clock.js';
import { until } from '../support/until.js';
import { runBuiltCli } from '../support/cli.js';
import { RunFixture } from '../status/support/run-fixture.js';
import { ObserverProcess } from './support/observer-process.js';

let dir: string;
let url: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'observer-cli-'));
  url = pathToFileURL(join(dir, 'store')).href;
  const store = createFileStore(join(dir, 'store'), { clock: systemClock });
  await new RunFixture(store, 'r1').publish({ count: 3 });
  await store.close();
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('replay-observer serve', () => {
  it('has --help naming its options', async () => {
    const out = await runBuiltCli('replay-observer', ['serve', '--help']);
    expect(out.exitCode).toBe(0);
    for (const option of ['--store', '--run', '--host', '--port', '--id', '--no-gossip', '--swarm-key']) expect(out.stdout).toContain(option);
  });

  it('a port in use is a one-line error naming the fix', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const out = await runBuiltCli('replay-observer', ['serve', '--store', url, '--port', String(port), '--no-gossip']);
      expect([out.exitCode, out.stderr]).toEqual([2, `replay-observer: cannot listen on 127.0.0.1:${port}: the port is in use; pick another --port (0: any free port)`]);
    } finally {
      blocker.close();
    }
  });

  it('with gossip on it writes its presence record, and deletes it on SIGTERM', async () => {
    const observer = new ObserverProcess();
    await observer.start(['--store', url, '--run', 'r1', '--id', 'obs-cli', '--data-dir', join(dir, 'data'), '--listen', '/ip4/127.0.0.1/tcp/0']);
    const presence = join(dir, 'store', 'runs', 'r1', 'observers', 'obs-cli.json');
    const record = await until(
      () => readFile(presence, 'utf8').then((text) => JSON.parse(text) as { schema: string; peerId: string; addrs: string[] }, () => undefined),
      (value) => value !== undefined,
      'the presence record',
    );
    expect(record).toMatchObject({ schema: 'replay/observer/v1', peerId: expect.stringMatching(/^12D3KooW/) });
    expect(record!.addrs[0]).toMatch(/^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\/12D3KooW/);
    expect(await observer.stop()).toBe(0);
    expect(await readdir(join(dir, 'store', 'runs', 'r1', 'observers'))).toEqual([]);
  });
});
