import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runKeys } from '../../src/layout/keys.js';
import { getIfExists } from '../../src/store/get-if-exists.js';
import { listAll } from '../../src/store/store.js';
import { publishRun } from '../node/support/cluster-world.js';
import { ObserverProcess } from '../observer/support/observer-process.js';
import { runBuiltCli } from '../support/cli.js';
import { describeS3, freshS3Store, type S3TestStore } from '../support/s3.js';
import { until } from '../support/until.js';

// Issue 19, part 3: with credentials given the supported way (the
// environment), they already appear nowhere: not in node logs, status,
// the observer's stdout, JSON log or pages, nor in any object of the bucket.
// Each case pins that down on a real S3 server (RGW).
describeS3('credentials from the environment appear nowhere', () => {
  let s3: S3TestStore;
  let dir: string;
  let secrets: string[];
  const run = 'secrets';
  const item = '0000000000-0000000100';

  const expectClean = (text: string, where: string): void => {
    for (const secret of secrets) expect(text.includes(secret), `${where} holds a credential`).toBe(false);
  };

  beforeAll(async () => {
    s3 = await freshS3Store('secrets');
    // The access key id is not a secret, but nothing has a reason to print it either.
    secrets = [s3.target.secretAccessKey, s3.target.accessKeyId];
    dir = await mkdtemp(join(tmpdir(), 'secrets-env-'));
    await publishRun(s3.store, { run, items: 3, ttlMs: 10_000, maxAttempts: 2 });
    // One crash, so that a failure record with a log tail is in the bucket too.
    const faults = JSON.stringify({ crashAt: { item, block: 50, times: 1 } });
    const joined = await runBuiltCli('replay-node', [
      'join', '--store', s3.url, '--run', run, '--node', 'n1', '--runner', 'sim', '--sim-speed', '0', '--sim-faults', faults,
      '--data-dir', join(dir, 'n1'), '--no-gossip', '--exit-when-done', '--log-level', 'debug',
    ], s3.env);
    expect([joined.exitCode, joined.stderr.includes('"level":')]).toEqual([0, true]);
    expectClean(joined.stdout + joined.stderr, 'replay-node join output (debug JSON log)');
  });
  afterAll(async () => {
    await s3?.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  it('replay-node status, as text and as JSON', async () => {
    for (const args of [[], ['--json']]) {
      const out = await runBuiltCli('replay-node', ['status', '--store', s3.url, '--run', run, ...args], s3.env);
      expect(out.exitCode).toBe(0);
      expect(out.stdout).toContain(run);
      expectClean(out.stdout + out.stderr, `status ${args.join(' ')}`);
    }
  });

  it('a wrong secret in the environment: a one-line error that does not repeat it', async () => {
    const wrong = 'wrongSecret0123456789abcdefghijklmnopqrs';
    const out = await runBuiltCli('replay-node', ['status', '--store', s3.url, '--run', run], { ...s3.env, AWS_SECRET_ACCESS_KEY: wrong });
    expect(out.exitCode).not.toBe(0);
    expect(out.stderr.trim().split('\n')).toHaveLength(1);
    expect(out.stderr).not.toContain(wrong);
    expectClean(out.stderr, 'the wrong-secret error');
  });

  it('replay-observer serve: its JSON log, its API and item pages, its presence record', async () => {
    const observer = new ObserverProcess();
    const url = await observer.start(
      ['--store', s3.url, '--run', run, '--id', 'obs-secrets', '--data-dir', join(dir, 'obs'), '--listen', '/ip4/127.0.0.1/tcp/0'],
      { ...s3.env, LOG_LEVEL: 'debug' },
    );
    try {
      const presence = runKeys(run).observer('obs-secrets');
      const record = await until(() => getIfExists(s3.store, presence), (got) => got !== undefined, 'the presence record');
      expectClean(Buffer.from(record!.body).toString('utf8'), 'the observer presence record');
      for (const path of ['/api/runs', `/api/runs/${run}`, `/api/runs/${run}/nodes`, `/api/runs/${run}/items/${item}`, '/', '/metrics']) {
        const response = await fetch(new URL(path, url));
        expectClean(await response.text(), `observer ${path}`);
      }
      const detail = (await (await fetch(new URL(`/api/runs/${run}/items/${item}`, url))).json()) as { failures?: unknown[] };
      expect(detail.failures?.length).toBeGreaterThan(0);
    } finally {
      expect(await observer.stop()).toBe(0);
    }
    expect(observer.stderr).toContain('"level":');
    expectClean(observer.stderr, 'the observer JSON log');
  });

  it('no object in the bucket holds them: manifest, leases, results, failures, node records', async () => {
    const kinds = new Set<string>();
    for await (const info of listAll(s3.store, '')) {
      const got = await getIfExists(s3.store, info.key);
      if (!got) continue;
      kinds.add(info.key.split('/')[2] ?? info.key);
      expectClean(Buffer.from(got.body).toString('utf8'), info.key);
    }
    for (const kind of ['manifest.json', 'leases', 'results', 'failures', 'nodes']) expect(kinds).toContain(kind);
  });
});
