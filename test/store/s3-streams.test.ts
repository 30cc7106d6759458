import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { NotFoundError, NotSupportedError } from '../../src/store/errors.js';
import { create, overwrite } from '../../src/store/store.js';
import { describeS3, freshS3Store, type S3TestStore } from '../support/s3.js';

const MiB = 1024 * 1024;

/** `mib` chunks of 1 MiB of fresh random bytes, and their sha256. */
function source(mib: number): { stream: Readable; sha256: string } {
  const chunks = Array.from({ length: mib }, () => randomBytes(MiB));
  const hash = createHash('sha256');
  for (const c of chunks) hash.update(c);
  return { stream: Readable.from(chunks), sha256: hash.digest('hex') };
}

async function sha256Of(stream: Readable): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

// The upload paths the conformance suite does not reach (it streams with a
// known size): unknown sizes past one 16 MiB part, on the real server.
describeS3('S3 backend on RGW: streams of unknown size', () => {
  let s3: S3TestStore;
  beforeAll(async () => {
    s3 = await freshS3Store('streams');
  });
  afterAll(() => s3.cleanup());

  it('an overwrite of 40 MiB without a size becomes a multipart upload and round-trips', async () => {
    const { stream, sha256 } = source(40);
    const put = await s3.store.putStream('big/multipart.bin', stream, overwrite);
    const head = await s3.store.head('big/multipart.bin');
    expect(head.size).toBe(40 * MiB);
    expect(put.etag).toBe(head.etag);
    expect(head.etag).toMatch(/-3$/); // three parts of 16, 16 and 8 MiB
    expect(await sha256Of((await s3.store.getStream('big/multipart.bin')).body)).toBe(sha256);
  });

  it('a conditional write that would need multipart is refused, not sent with a condition the server may ignore', async () => {
    const unknown = source(20);
    const error = await s3.store.putStream('big/conditional.bin', unknown.stream, create).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotSupportedError);
    expect((error as Error).message).toMatch(/^conditional write of big\/conditional\.bin: a stream of unknown size .* pass the size \(at most 5 GiB\) or write it with overwrite$/);
    await expect(s3.store.head('big/conditional.bin')).rejects.toBeInstanceOf(NotFoundError);
    // with its size it is one conditional PUT, and the condition holds
    const known = source(20);
    await s3.store.putStream('big/conditional.bin', known.stream, create, { size: 20 * MiB });
    expect(await sha256Of((await s3.store.getStream('big/conditional.bin')).body)).toBe(known.sha256);
    await expect(s3.store.putStream('big/conditional.bin', source(1).stream, create, { size: MiB })).rejects.toMatchObject({ name: 'AlreadyExists' });
  });
});
