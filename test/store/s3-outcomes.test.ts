import { afterEach, describe, expect, it } from 'vitest';
import {
  AlreadyExistsError,
  NotSupportedError,
  PreconditionFailedError,
  UnavailableError,
  WriteOutcomeUnknownError,
} from '../../src/store/errors.js';
import { createS3Store, type S3Store } from '../../src/store/s3.js';
import { parseS3Url } from '../../src/store/s3-url.js';
import { create, overwrite, update } from '../../src/store/store.js';
import { systemClock } from '../../src/time/system-clock.js';
import { s3ErrorXml, scriptedS3Server, type FakeS3Server, type ScriptedAnswer } from '../support/fake-s3-server.js';

// Outcomes a real server gives only by chance (RGW's 500 to CAS race
// losers, AWS's 409 and 404) or never on demand (a silent server, a far-off
// Date): a scripted HTTP server answers, the real S3 backend interprets.
// Conditional semantics themselves are tested on RGW (s3.test.ts).
let server: FakeS3Server | undefined;
let store: S3Store | undefined;
afterEach(async () => {
  await store?.close();
  await server?.close();
  store = undefined;
  server = undefined;
});

async function storeAnswering(answer: ScriptedAnswer | ((method: string) => ScriptedAnswer), params = ''): Promise<S3Store> {
  server = await scriptedS3Server((req) => (typeof answer === 'function' ? answer(req.method ?? '') : answer));
  store = createS3Store(parseS3Url(`s3://bucket/p?endpoint=${server.endpoint}&etagQuoting=unquoted${params}`), {
    clock: systemClock,
    credentials: { accessKeyId: 'fake', secretAccessKey: 'fake-secret' },
    maxAttempts: 1,
  });
  return store;
}

const error = (status: number, code: string): ScriptedAnswer => ({ status, body: s3ErrorXml(code) });

describe('S3 backend: outcomes of conditional writes', () => {
  it.each([
    ['500 InternalError', error(500, 'InternalError')],
    ['503 SlowDown', error(503, 'SlowDown')],
    ['409 ConditionalRequestConflict', error(409, 'ConditionalRequestConflict')],
  ])('%s on create and on update is WriteOutcomeUnknown, naming the key', async (_label, answer) => {
    const s = await storeAnswering(answer);
    for (const mode of [create, update('abc')]) {
      const e = await s.put('runs/r/leases/x.json', '{}', mode).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(WriteOutcomeUnknownError);
      expect((e as Error).name).toBe('WriteOutcomeUnknown');
      expect((e as WriteOutcomeUnknownError).key).toBe('runs/r/leases/x.json');
      expect((e as Error).message).toMatch(/read it back to decide/);
    }
  });

  it('the same answers to an overwrite are Unavailable (retrying it is safe)', async () => {
    const s = await storeAnswering(error(500, 'InternalError'));
    await expect(s.put('k', 'x', overwrite)).rejects.toBeInstanceOf(UnavailableError);
  });

  it('a server that never answers a conditional write: WriteOutcomeUnknown after timeoutMs', async () => {
    const s = await storeAnswering({ status: 0, silent: true }, '&timeoutMs=300');
    await expect(s.put('k', 'x', create)).rejects.toBeInstanceOf(WriteOutcomeUnknownError);
  });

  it('412 and 304 on create are AlreadyExists; 412 and 404 on update are PreconditionFailed', async () => {
    for (const status of [412, 304]) {
      const s = await storeAnswering(error(status, 'PreconditionFailed'));
      await expect(s.put('k', 'x', create)).rejects.toBeInstanceOf(AlreadyExistsError);
      await store!.close();
      await server!.close();
    }
    for (const [status, code] of [[412, 'PreconditionFailed'], [404, 'NoSuchKey']] as const) {
      const s = await storeAnswering(error(status, code));
      await expect(s.put('k', 'x', update('abc'))).rejects.toBeInstanceOf(PreconditionFailedError);
      await store!.close();
      await server!.close();
    }
    server = undefined;
  });

  it('501 to a conditional write: NotSupported (the server has no conditional writes)', async () => {
    const s = await storeAnswering(error(501, 'NotImplemented'));
    await expect(s.put('k', 'x', create)).rejects.toBeInstanceOf(NotSupportedError);
  });

  it('sends If-None-Match: * for create and the ETag, unquoted as configured, for update', async () => {
    const s = await storeAnswering({ status: 200, headers: { etag: '"e1"' } });
    expect((await s.put('k', 'x', create)).etag).toBe('e1');
    await s.put('k', 'y', update('"e1"'));
    await s.put('k', 'z', overwrite);
    expect(server!.requests.map((r) => [r.method, r.ifNoneMatch, r.ifMatch])).toEqual([
      ['PUT', '*', undefined],
      ['PUT', undefined, 'e1'],
      ['PUT', undefined, undefined],
    ]);
  });
});

describe('S3 backend: the store clock and NotModified', () => {
  it('storeDate is the response Date header, even far from this host\'s clock', async () => {
    const date = 'Wed, 01 Jan 2031 00:00:00 GMT';
    const headers: Record<string, string> = { date, etag: '"e1"', 'last-modified': date };
    const s = await storeAnswering({ status: 200, headers });
    expect((await s.put('k', 'x', create)).storeDate.toISOString()).toBe('2031-01-01T00:00:00.000Z');
    expect((await s.head('k')).storeDate.toISOString()).toBe('2031-01-01T00:00:00.000Z');
  });

  it('GET If-None-Match answered 304 is NotModified with the store date', async () => {
    const date = 'Wed, 01 Jan 2031 00:00:00 GMT';
    const s = await storeAnswering({ status: 304, headers: { date, etag: '"e1"' } });
    expect(await s.get('k', { ifNoneMatch: 'e1' })).toEqual({ notModified: true, etag: 'e1', storeDate: new Date(date) });
    expect(server!.requests[0]!.ifNoneMatch).toBe('"e1"');
  });
});
