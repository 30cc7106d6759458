import { createCipheriv, createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { AlreadyExistsError, PreconditionFailedError, UnavailableError, WriteOutcomeUnknownError } from '../../src/store/errors.js';
import { create, isNotModified, update, type Store } from '../../src/store/store.js';
import { wallMonotonic } from '../support/wall-clock.js';

/**
 * The contended operations of the conformance suite, written once and run
 * either inside a worker process (file, s3: real separate processes) or as
 * concurrent async tasks in the test process (memory, which processes cannot
 * share). Each task resolves ambiguous outcomes (WriteOutcomeUnknown, which
 * S3 servers produce under contention) the way the product does: by reading
 * back a nonce it wrote.
 */

export type CreateRaceResult = { writer: string; outcome: 'won' | 'lost'; resolvedByReadBack: boolean };

/** One create-if-absent attempt on `key`; the body names the writer so the winner is verifiable. */
export async function raceCreate(store: Store, key: string, writer: string): Promise<CreateRaceResult> {
  try {
    await store.put(key, JSON.stringify({ writer }), create);
    return { writer, outcome: 'won', resolvedByReadBack: false };
  } catch (error) {
    if (error instanceof WriteOutcomeUnknownError) {
      const current = await readJson<{ writer: string }>(store, key);
      return { writer, outcome: current.value.writer === writer ? 'won' : 'lost', resolvedByReadBack: true };
    }
    if (error instanceof AlreadyExistsError) return { writer, outcome: 'lost', resolvedByReadBack: false };
    throw error;
  }
}

/** The counter object of the CAS test: a value and the nonces of the last writes, for read-back. */
export interface Counter {
  n: number;
  recent: string[];
}

export const initialCounter: Counter = { n: 0, recent: [] };

/** Long enough that a write cannot be pushed out by the other writers before its writer reads back. */
const RECENT_NONCES = 64;

export interface CasIncrementsResult {
  writer: string;
  /** increments this writer knows landed; across writers they must sum to the final value */
  landed: number;
  attempts: number;
  preconditionFailures: number;
  unknownOutcomes: number;
}

/** `count` read-modify-write increments of the counter at `key`, retrying refused CAS writes. */
export async function casIncrements(store: Store, key: string, writer: string, count: number): Promise<CasIncrementsResult> {
  const result: CasIncrementsResult = { writer, landed: 0, attempts: 0, preconditionFailures: 0, unknownOutcomes: 0 };
  while (result.landed < count) {
    const { value, etag } = await readJson<Counter>(store, key);
    const nonce = `${writer}:${result.attempts}`;
    result.attempts++;
    const next: Counter = { n: value.n + 1, recent: [...value.recent, nonce].slice(-RECENT_NONCES) };
    try {
      await store.put(key, JSON.stringify(next), update(etag));
      result.landed++;
    } catch (error) {
      if (error instanceof PreconditionFailedError) {
        result.preconditionFailures++;
      } else if (error instanceof WriteOutcomeUnknownError) {
        result.unknownOutcomes++;
        const after = await readJson<Counter>(store, key);
        if (after.value.recent.includes(nonce)) result.landed++;
      } else if (!(error instanceof UnavailableError)) {
        throw error;
      }
    }
  }
  return result;
}

async function readJson<T>(store: Store, key: string): Promise<{ value: T; etag: string }> {
  const got = await store.get(key);
  if (isNotModified(got)) throw new Error('unexpected NotModified without ifNoneMatch');
  return { value: JSON.parse(Buffer.from(got.body).toString('utf8')) as T, etag: got.etag };
}

export interface BigRoundTripResult {
  bytes: number;
  /** sha256 of what was generated and streamed into putStream */
  writtenSha256: string;
  /** sha256 of what getStream gave back */
  readSha256: string;
  /** size and ETag the store reports for the object */
  headSize: number;
  etag: string;
  /** highest RSS seen during the round trip minus RSS before it */
  peakRssGrowth: number;
  seconds: number;
}

/**
 * Streams `bytes` of deterministic pseudo-random content (AES-CTR keystream
 * of `seed`) into the store, streams it back, and hashes both sides, never
 * holding more than a chunk. RSS is sampled at every chunk.
 */
export async function bigRoundTrip(store: Store, key: string, bytes: number, seed: string): Promise<BigRoundTripResult> {
  const started = wallMonotonic();
  const baseline = process.memoryUsage.rss();
  let peak = baseline;
  const sample = (): void => {
    const rss = process.memoryUsage.rss();
    if (rss > peak) peak = rss;
  };
  const written = createHash('sha256');
  // Byte mode with a one-chunk buffer: Readable.from's default object mode would queue 16 chunks.
  const chunks = deterministicChunks(bytes, seed, (chunk) => {
    written.update(chunk);
    sample();
  });
  const source = Readable.from(chunks, { objectMode: false, highWaterMark: CHUNK });
  const put = await store.putStream(key, source, create, { size: bytes });
  const read = createHash('sha256');
  const got = await store.getStream(key);
  for await (const chunk of got.body) {
    read.update(chunk as Buffer);
    sample();
  }
  const head = await store.head(key);
  await store.delete(key);
  return {
    bytes,
    writtenSha256: written.digest('hex'),
    readSha256: read.digest('hex'),
    headSize: head.size,
    etag: put.etag,
    peakRssGrowth: peak - baseline,
    seconds: (wallMonotonic() - started) / 1000,
  };
}

const CHUNK = 256 * 1024;

function* deterministicChunks(bytes: number, seed: string, onChunk: (chunk: Buffer) => void): Generator<Buffer> {
  const key = createHash('sha256').update(seed).digest().subarray(0, 16);
  const cipher = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  const zeros = Buffer.alloc(CHUNK);
  for (let left = bytes; left > 0; left -= CHUNK) {
    const chunk = cipher.update(left >= CHUNK ? zeros : zeros.subarray(0, left));
    onChunk(chunk);
    yield chunk;
  }
}
