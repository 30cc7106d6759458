import { afterAll, beforeAll, expect, it } from 'vitest';
import { PreconditionFailedError, StoreConfigError, UnavailableError } from '../../src/store/errors.js';
import { createS3Store, type S3Store } from '../../src/store/s3.js';
import { parseS3Url } from '../../src/store/s3-url.js';
import { create, overwrite, update } from '../../src/store/store.js';
import { systemClock } from '../../src/time/system-clock.js';
import { closedPort } from '../support/closed-port.js';
import { describeS3, freshS3Store, type S3TestStore } from '../support/s3.js';

// Misconfiguration against the real server: each is one line naming the
// problem and the fix, typed StoreConfig or Unavailable, never with a secret.
describeS3('S3 backend on RGW: configuration errors and ETag quoting', () => {
  let s3: S3TestStore;
  const opened: S3Store[] = [];
  const open = (url: string, accessKeyId = s3.target.accessKeyId, secretAccessKey = s3.target.secretAccessKey): S3Store => {
    const store = createS3Store(parseS3Url(url), { clock: systemClock, credentials: { accessKeyId, secretAccessKey } });
    opened.push(store);
    return store;
  };
  beforeAll(async () => {
    s3 = await freshS3Store('config');
  });
  afterAll(async () => {
    for (const store of opened) await store.close();
    await s3.cleanup();
  });

  const expectOneLine = async (promise: Promise<unknown>, type: typeof StoreConfigError | typeof UnavailableError, pattern: RegExp): Promise<void> => {
    const error = await promise.then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(type);
    const message = (error as Error).message;
    expect(message).toMatch(pattern);
    expect(message).not.toMatch(/\n/);
    expect(message).not.toContain(s3.target.secretAccessKey);
    expect(message).not.toContain('wrong-secret-value');
  };

  it('an unknown access key: StoreConfig naming AWS_ACCESS_KEY_ID', async () => {
    const store = open(s3.url, 'NOSUCHKEY0000000', 'wrong-secret-value');
    await expectOneLine(store.put('k', 'x', create), StoreConfigError, /InvalidAccessKeyId.*set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/);
    await expectOneLine(store.list({ prefix: '' }), StoreConfigError, /InvalidAccessKeyId/);
  });

  it('a wrong secret key: StoreConfig naming AWS_SECRET_ACCESS_KEY', async () => {
    const store = open(s3.url, s3.target.accessKeyId, 'wrong-secret-value');
    await expectOneLine(store.get('k'), StoreConfigError, /SignatureDoesNotMatch.*check AWS_SECRET_ACCESS_KEY/);
  });

  it('a missing bucket: StoreConfig naming the bucket, on writes, reads, heads and lists', async () => {
    const store = open(s3.url.replace(`s3://${s3.bucket}`, 's3://no-such-bucket-here'));
    const message = /bucket no-such-bucket-here does not exist at http:\/\/127\.0\.0\.1:\d+; create it \(aws s3 mb s3:\/\/no-such-bucket-here\) or fix the store URL/;
    await expectOneLine(store.put('k', 'x', create), StoreConfigError, message);
    await expectOneLine(store.get('k'), StoreConfigError, message);
    await expectOneLine(store.head('k'), StoreConfigError, message);
    await expectOneLine(store.list({ prefix: '' }), StoreConfigError, message);
  });

  it('an unreachable endpoint: Unavailable naming the endpoint, for conditional writes too (nothing was sent)', async () => {
    const port = await closedPort();
    const store = open(`s3://${s3.bucket}/?endpoint=http://127.0.0.1:${port}&timeoutMs=2000`);
    const pattern = new RegExp(`cannot reach the S3 endpoint http://127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\); check the endpoint in the store URL`);
    await expectOneLine(store.put('k', 'x', create), UnavailableError, pattern);
    await expectOneLine(store.get('k'), UnavailableError, pattern);
  });

  it('RGW takes the unquoted ETag on If-Match: detected, and the quoted form really fails there', async () => {
    expect(await s3.store.etagQuoting()).toBe('unquoted');
    const { etag } = await s3.store.put('quoting/k', 'v1', create);
    const quoted = open(`${s3.url}&etagQuoting=quoted`);
    await expect(quoted.put('quoting/k', 'v2', update(etag))).rejects.toBeInstanceOf(PreconditionFailedError);
    await s3.store.put('quoting/k', 'v2', update(etag));
    // the detection's scratch object is gone
    expect((await s3.store.list({ prefix: '_probe/' })).items).toEqual([]);
    await s3.store.put('quoting/k', 'v3', overwrite);
  });
});
