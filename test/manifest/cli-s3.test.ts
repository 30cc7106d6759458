import { afterAll, beforeAll, expect, it } from 'vitest';
import { runKeys } from '../../src/layout/keys.js';
import type { Manifest } from '../../src/manifest/manifest.js';
import { isNotModified } from '../../src/store/store.js';
import { describeS3, freshS3Store, type S3TestStore } from '../support/s3.js';
import { runManifestCli } from './support/cli.js';
import { realSpacingPath } from './support/real-data.js';

// replay-manifest on a real S3 server: separate processes opening one bucket
// through an s3:// URL and the standard AWS credential variables.
describeS3('replay-manifest on RGW (the real CLI)', () => {
  let s3: S3TestStore;
  const readStored = async (run: string): Promise<Manifest> => {
    const got = await s3.store.get(runKeys(run).manifest);
    if (isNotModified(got)) throw new Error('unexpected NotModified');
    return JSON.parse(Buffer.from(got.body).toString('utf8')) as Manifest;
  };
  beforeAll(async () => {
    s3 = await freshS3Store('manifest-cli');
  });
  afterAll(() => s3.cleanup());

  it('publishes the real table (after the probe), shows and lists it; again is a no-op', async () => {
    const args = ['publish', '--store', s3.url, '--run', 'real-1', '--spacing', realSpacingPath];
    const first = await runManifestCli(args, s3.env);
    expect(first.stderr).toBe('');
    expect(first.stdout).toBe('published run real-1 (860 intervals, 860 items, blocks 0-344317349, 860 from genesis) at runs/real-1/manifest.json');
    expect((await readStored('real-1')).intervals).toHaveLength(860);
    expect((await s3.store.list({ prefix: '_probe/' })).items).toEqual([]);
    const again = await runManifestCli(args, s3.env);
    expect([again.exitCode, again.stdout]).toEqual([0, expect.stringMatching(/^run real-1 is already published with the same content/)]);
    const list = JSON.parse((await runManifestCli(['list', '--store', s3.url, '--json'], s3.env)).stdout) as Array<{ run: string }>;
    expect(list.map((r) => r.run)).toEqual(['real-1']);
    const show = await runManifestCli(['show', '--store', s3.url, '--run', 'real-1'], s3.env);
    expect(JSON.parse(show.stdout)).toEqual(await readStored('real-1'));
  });

  it('two processes publishing different manifests under one run id at once: exactly one wins', async () => {
    for (const round of [1, 2, 3]) {
      const run = `race-${round}`;
      const publish = (replicas: string) => runManifestCli(['publish', '--store', s3.url, '--run', run, '--spacing', realSpacingPath, '--replicas', replicas], s3.env);
      const [a, b] = await Promise.all([publish('1'), publish('2')]);
      expect([a.exitCode, b.exitCode].sort()).toEqual([0, 4]);
      const [winner, loser] = a.exitCode === 0 ? [1, b] : [2, a];
      expect(loser.stderr).toMatch(new RegExp(`^replay-manifest: run ${run} already has a different manifest \\(published .*; differs in replicas\\); runs are immutable`));
      expect((await readStored(run)).replicas).toBe(winner);
    }
  });

  it('a store URL without credentials in the environment fails in one line naming the variables', async () => {
    const outcome = await runManifestCli(['list', '--store', s3.url], { AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_EC2_METADATA_DISABLED: 'true', AWS_CONFIG_FILE: '/nonexistent', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent' });
    expect(outcome.exitCode).not.toBe(0);
    expect(outcome.stderr).toBe(`replay-manifest: StoreConfig: no AWS credentials found for s3://${s3.bucket}; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE)`);
  });
});
