import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreConfigError } from '../../src/store/errors.js';
import { FileStore } from '../../src/store/file.js';
import { MemoryStore } from '../../src/store/memory.js';
import { openStore } from '../../src/store/open-store.js';
import { S3Store } from '../../src/store/s3.js';
import { detectEtagQuoting } from '../../src/store/s3-etag.js';
import { formatS3Url, parseS3Url } from '../../src/store/s3-url.js';
import { systemClock } from '../../src/time/system-clock.js';

const deps = { clock: systemClock };
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'open-store-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('openStore', () => {
  it('opens file URLs, relative file: URLs and plain paths as directories', async () => {
    const cases: Array<[string, string]> = [
      [pathToFileURL(dir).href, dir],
      [dir, dir],
      ['file:./some/rel', resolve('some/rel')],
      ['some/rel', resolve('some/rel')],
    ];
    for (const [url, root] of cases) {
      const store = openStore(url, deps);
      expect(store, url).toBeInstanceOf(FileStore);
      expect((store as FileStore).root, url).toBe(root);
      await store.close();
    }
  });

  it('opens memory: and s3:// URLs without any I/O', async () => {
    expect(openStore('memory:', deps)).toBeInstanceOf(MemoryStore);
    const s3 = openStore('s3://my-bucket/runs-root?endpoint=http://127.0.0.1:9&region=eu-west-1', deps);
    expect(s3).toBeInstanceOf(S3Store);
    expect(s3.description).toBe('s3://my-bucket/runs-root?endpoint=http://127.0.0.1:9&region=eu-west-1');
    await s3.close();
  });

  it('refuses unknown schemes and bad s3 URLs with one line naming the fix', () => {
    const refusals: Array<[string, RegExp]> = [
      ['gs://bucket/x', /^unknown store URL scheme "gs:" in gs:\/\/bucket\/x; use s3:\/\/bucket\/prefix\?endpoint=\.\.\., file:\/\/\/abs\/dir or a directory path$/],
      ['', /store URL is empty/],
      ['s3://AB/x', /"AB" is not a valid bucket name/],
      ['s3://key:secret@bucket/x', /credentials do not belong in the URL.*AWS_ACCESS_KEY_ID/],
      ['s3://bucket/x?endpont=http://h', /unknown parameter "endpont"/],
      ['s3://bucket/x?endpoint=ftp://h', /endpoint "ftp:\/\/h" must be http\(s\):\/\/host\[:port\]/],
      ['s3://bucket/a//b', /prefix "a\/\/b" has an empty, "." or ".." segment/],
      ['s3://bucket/x?etagQuoting=maybe', /etagQuoting must be auto, quoted or unquoted/],
    ];
    for (const [url, pattern] of refusals) {
      const error = (() => {
        try {
          openStore(url, deps);
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(error, url).toBeInstanceOf(StoreConfigError);
      expect((error as Error).message, url).toMatch(pattern);
      expect((error as Error).message).not.toContain('secret');
    }
  });
});

describe('s3 URLs', () => {
  it('parses bucket, prefix and parameters with their defaults', () => {
    expect(parseS3Url('s3://b-1/a/b/?endpoint=http://127.0.0.1:7480/&pathStyle=false', {})).toEqual({
      bucket: 'b-1', prefix: 'a/b/', endpoint: 'http://127.0.0.1:7480', region: 'us-east-1', pathStyle: false, etagQuoting: 'auto', timeoutMs: 30_000,
    });
    const aws = parseS3Url('s3://bucket', { AWS_REGION: 'eu-central-1' });
    expect(aws).toMatchObject({ prefix: '', pathStyle: false, region: 'eu-central-1' });
    expect(aws.endpoint).toBeUndefined();
    expect(formatS3Url(aws)).toBe('s3://bucket/?region=eu-central-1');
  });
});

describe('ETag quoting detection', () => {
  const probeAccepting = (form: 'quoted' | 'unquoted' | 'none') => {
    const sent: string[] = [];
    return {
      sent,
      probe: {
        create: async () => 'abc',
        swap: async (ifMatch: string) => {
          sent.push(ifMatch);
          const accepted = form === 'quoted' ? ifMatch === '"abc"' : form === 'unquoted' ? ifMatch === 'abc' : false;
          return accepted ? { accepted: true as const, etag: 'def' } : { accepted: false as const };
        },
        remove: async () => void sent.push('removed'),
      },
    };
  };

  it('tries unquoted first, then quoted; removes the scratch object either way', async () => {
    const rgw = probeAccepting('unquoted');
    expect(await detectEtagQuoting(rgw.probe)).toBe('unquoted');
    expect(rgw.sent).toEqual(['abc', 'removed']);
    const strict = probeAccepting('quoted');
    expect(await detectEtagQuoting(strict.probe)).toBe('quoted');
    expect(strict.sent).toEqual(['abc', '"abc"', 'removed']);
    const none = probeAccepting('none');
    await expect(detectEtagQuoting(none.probe)).rejects.toMatchObject({ name: 'NotSupported' });
    expect(none.sent.at(-1)).toBe('removed');
  });
});
