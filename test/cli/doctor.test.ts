import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBuiltCli } from '../support/cli.js';
import { closedPort } from '../support/closed-port.js';
import { ignoringS3Server, s3ErrorXml, scriptedS3Server, type FakeS3Server } from '../support/fake-s3-server.js';
import { createFaultProxy, proxiedUrl } from '../support/fault-proxy.js';
import { describeS3, freshS3Store, type S3TestStore } from '../support/s3.js';

const doctor = (store: string, env: Record<string, string> = {}, extra: string[] = []) => runBuiltCli('replay-node', ['doctor', '--store', store, ...extra], env);
const CHECKS = ['create-if-absent', 'concurrent-creates', 'etag-quoting', 'cas-current-etag', 'cas-stale-etag', 'cas-missing-key', 'store-clock', 'latency', 'cleanup'];

describe('replay-node doctor (the real CLI)', () => {
  let dir: string;
  let fake: FakeS3Server;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'doctor-'));
    fake = await ignoringS3Server();
  });
  afterAll(async () => {
    await fake.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('trusts a file store: a table of passed checks, exit 0, probe objects removed', async () => {
    const outcome = await doctor(pathToFileURL(dir).href);
    expect(outcome.stderr).toBe('');
    expect(outcome.exitCode).toBe(0);
    const lines = outcome.stdout.split('\n');
    expect(lines[0]).toMatch(/^check +result +time +detail$/);
    expect(lines.slice(1, 10).map((l) => l.split(/ +/).slice(0, 2))).toEqual(CHECKS.map((c) => [c, 'ok']));
    expect(lines[10]).toBe(`store file://${dir}: OK, it can hold leases`);
    const probeDirs = await readdir(join(dir, '_probe'));
    for (const d of probeDirs) expect(await readdir(join(dir, '_probe', d))).toEqual([]);
  });

  it('refuses an S3 server that ignores conditional headers: exit 3 naming the failed check', async () => {
    const outcome = await doctor(`s3://bucket/x?endpoint=${fake.endpoint}`, { AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 'b' });
    expect(outcome.exitCode).toBe(3);
    const hint = 'on Ceph RGW a bucket with versioning enabled does this: use an unversioned bucket';
    expect(outcome.stdout).toMatch(new RegExp(`^create-if-absent +FAILED .*the store ignores If-None-Match; ${hint}$`, 'm'));
    expect(outcome.stdout).toMatch(/^concurrent-creates +FAILED .*8 of 8 concurrent creates succeeded/m);
    expect(outcome.stdout).toMatch(/NOT SAFE \(create-if-absent\)$/);
    expect(outcome.stderr).toMatch(
      new RegExp(`^replay-node: store s3://bucket/x\\?endpoint=http://127\\.0\\.0\\.1:\\d+&region=us-east-1 cannot be trusted with leases: check create-if-absent failed: a create of an existing key succeeded: the store ignores If-None-Match; ${hint}$`),
    );
  });

  it('--help names the options and the exit codes', async () => {
    const help = await runBuiltCli('replay-node', ['doctor', '--help']);
    expect(help.exitCode).toBe(0);
    for (const text of ['--store <url>', '--json', 'Exit 0 when the store can be trusted, 3 naming the failed check', 'or is unavailable (only transient errors, even after retries: try again later)']) {
      expect(help.stdout.replace(/\s+/g, ' ')).toContain(text);
    }
  });

  it('an unknown URL scheme and an unreachable endpoint: one line each, non-zero exit', async () => {
    const scheme = await doctor('gs://bucket/x');
    expect(scheme.exitCode).not.toBe(0);
    expect(scheme.stderr).toBe('replay-node: StoreConfig: unknown store URL scheme "gs:" in gs://bucket/x; use s3://bucket/prefix?endpoint=..., file:///abs/dir or a directory path');
    const port = await closedPort();
    const unreachable = await doctor(`s3://bucket/x?endpoint=http://127.0.0.1:${port}`, { AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 'b' });
    // Unavailable, not unsafe: exit 1 (not 3), after the probe's retries.
    expect(unreachable.exitCode).toBe(1);
    expect(unreachable.stdout).toBe('');
    expect(unreachable.stderr).toMatch(new RegExp(
      `^replay-node: Unavailable: store s3://bucket/x\\?endpoint=http://127\\.0\\.0\\.1:${port}&region=us-east-1 is unavailable: create of _probe/\\w+/create got only transient errors in 6 tries ` +
        `\\(last: cannot reach the S3 endpoint http://127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\); check the endpoint in the store URL and that the server is running\\); ` +
        'the capability probe could not finish, which says nothing about whether the store is safe: retry when it answers$',
    ));
  });

  it('a store that answers only 500s: unavailable (exit 1, one line saying to retry), never "cannot be trusted"', async () => {
    const failing = await scriptedS3Server(() => ({ status: 500, body: s3ErrorXml('InternalError', 'We encountered an internal error. Please try again.') }));
    try {
      const outcome = await doctor(`s3://bucket/x?endpoint=${failing.endpoint}`, { AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 'b' });
      expect(outcome.exitCode).toBe(1);
      expect(outcome.stdout).toBe('');
      expect(outcome.stderr.split('\n')).toHaveLength(1);
      expect(outcome.stderr).toMatch(/^replay-node: Unavailable: store s3:\/\/bucket\/x\?endpoint=\S+ is unavailable: .* got only transient errors in 6 tries \(last: .*InternalError.*\); .*retry when it answers$/);
      expect(outcome.stderr).not.toMatch(/cannot be trusted|UnsafeStore/);
    } finally {
      await failing.close();
    }
  });
});

describeS3('replay-node doctor on RGW (the real CLI)', () => {
  let s3: S3TestStore;
  beforeAll(async () => {
    s3 = await freshS3Store('doctor');
  });
  afterAll(() => s3.cleanup());

  it('trusts RGW and reports the unquoted ETag form', async () => {
    const outcome = await doctor(s3.url, s3.env);
    expect(outcome.stderr).toBe('');
    expect(outcome.exitCode).toBe(0);
    expect(outcome.stdout).toMatch(/^etag-quoting +ok .*If-Match takes the unquoted ETag$/m);
    expect(outcome.stdout.trim().split('\n').at(-1)).toBe(`store ${s3.url}: OK, it can hold leases`);
    expect((await s3.store.list({ prefix: '' })).items).toEqual([]);
    const json = JSON.parse((await doctor(s3.url, s3.env, ['--json'])).stdout) as { ok: boolean; etagQuoting: string; checks: unknown[] };
    expect(json).toMatchObject({ ok: true, etagQuoting: 'unquoted' });
    expect(json.checks).toHaveLength(CHECKS.length);
  });

  it('trusts RGW in 10 runs of 10 with 5 % of requests answered 500, 503 or reset (the measured case), counting the retries', async () => {
    const verdicts: string[] = [];
    let faults = 0;
    for (let seed = 1; seed <= 10; seed++) {
      const proxy = createFaultProxy({ upstream: s3.target.endpoint!, plan: { seed, rates: { 'error-500': 0.017, 'error-503': 0.017, 'drop-reset': 0.016 } } });
      await proxy.start();
      try {
        const url = proxiedUrl(s3.url, proxy.endpoint);
        const outcome = await doctor(url, s3.env);
        expect(outcome.stderr, `seed ${seed}`).toBe('');
        expect(outcome.exitCode, `seed ${seed}`).toBe(0);
        const verdict = outcome.stdout.trim().split('\n').at(-1)!;
        expect(verdict.startsWith(`store ${url}: OK, it can hold leases`), verdict).toBe(true);
        verdicts.push(verdict);
        const counts = proxy.counts();
        faults += counts['error-500'] + counts['error-503'] + counts['drop-reset'];
      } finally {
        await proxy.stop();
      }
    }
    expect(faults).toBeGreaterThan(5);
    // Faults on conditional writes reach the probe (the SDK retries the rest): it says how many it retried.
    expect(verdicts.some((v) => / \(\d+ transient errors? retried\)$/.test(v))).toBe(true);
    expect((await s3.store.list({ prefix: '' })).items).toEqual([]);
  });

  it('wrong keys and a missing bucket: one line naming the fix, non-zero exit, no secret printed', async () => {
    const badKey = await doctor(s3.url, { ...s3.env, AWS_ACCESS_KEY_ID: 'NOSUCHKEY0000000', AWS_SECRET_ACCESS_KEY: 'wrong-secret-value' });
    expect(badKey.exitCode).not.toBe(0);
    expect(badKey.stderr).toMatch(/^replay-node: StoreConfig: the S3 endpoint http:\/\/127\.0\.0\.1:\d+ does not know the access key \(InvalidAccessKeyId\); set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY to keys of this endpoint$/);
    const badSecret = await doctor(s3.url, { ...s3.env, AWS_SECRET_ACCESS_KEY: 'wrong-secret-value' });
    expect(badSecret.stderr).toMatch(/^replay-node: StoreConfig: .*\(SignatureDoesNotMatch\); check AWS_SECRET_ACCESS_KEY for this access key$/);
    const noBucket = await doctor(s3.url.replace(`s3://${s3.bucket}`, 's3://no-such-bucket-here'), s3.env);
    expect(noBucket.exitCode).not.toBe(0);
    expect(noBucket.stderr).toMatch(/^replay-node: StoreConfig: bucket no-such-bucket-here does not exist at http:\/\/127\.0\.0\.1:\d+; create it \(aws s3 mb s3:\/\/no-such-bucket-here\) or fix the store URL$/);
    for (const outcome of [badKey, badSecret, noBucket]) {
      expect(outcome.stderr).not.toContain('wrong-secret-value');
      expect(outcome.stderr).not.toContain(s3.target.secretAccessKey);
    }
  });
});

