import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { execa } from 'execa';
import type { Store } from '../../store/store.js';

/**
 * Streams one store object to a local file, hashing the stored bytes on the
 * way and, for `.zst`, decompressing through a `zstd -d` process so neither
 * the compressed nor the decompressed object is ever held in memory or
 * written twice. The caller decides what a bad outcome means (a corrupt
 * snapshot fails an attempt; a bad artifact is a configuration error).
 */
export interface DownloadResult {
  /** Hex sha256 of the object as stored (compressed). */
  sha256: string;
  /** Bytes read from the store. */
  bytes: number;
}

/** zstd refused the data: corrupt, truncated or not zstd at all. */
export class DecompressError extends Error {
  override readonly name = 'Decompress';
}

/** The store stream or the local write failed (network, disk). */
export class TransferError extends Error {
  override readonly name = 'Transfer';
}

export interface DownloadOptions {
  /** Pipe through `zstd -d`. */
  decompress: boolean;
  signal?: AbortSignal;
}

export async function downloadObject(store: Store, key: string, target: string, options: DownloadOptions): Promise<DownloadResult> {
  const { signal } = options;
  const hash = createHash('sha256');
  let bytes = 0;
  const hasher = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      bytes += chunk.length;
      done(null, chunk);
    },
  });
  try {
    const object = await store.getStream(key, { signal });
    if (!options.decompress) {
      await pipeline(object.body, hasher, createWriteStream(target), { signal });
    } else {
      await decompressInto(object.body, hasher, target, signal);
    }
  } catch (error) {
    await rm(target, { force: true });
    if (signal?.aborted) throw signal.reason;
    if (error instanceof DecompressError) throw error;
    throw new TransferError(`downloading ${key} failed: ${(error as Error).message}`, { cause: error });
  }
  return { sha256: hash.digest('hex'), bytes };
}

async function decompressInto(source: NodeJS.ReadableStream, hasher: Transform, target: string, signal?: AbortSignal): Promise<void> {
  const zstd = execa('zstd', ['-d', '-q', '-c', '--no-progress'], {
    stdin: 'pipe',
    stdout: { file: target },
    stderr: 'pipe',
    reject: false,
    cancelSignal: signal,
    forceKillAfterDelay: false,
  });
  // zstd dying on bad input closes its stdin (EPIPE here); its exit status says why.
  const feeding = pipeline(source, hasher, zstd.stdin!, { signal }).then(
    () => undefined,
    (error: unknown) => error,
  );
  const result = await zstd;
  const feedError = await feeding;
  if (signal?.aborted) throw signal.reason;
  // A source failure also makes zstd see a truncated stream: report the source, not corruption.
  const code = (feedError as NodeJS.ErrnoException | undefined)?.code;
  if (feedError && code !== 'EPIPE' && code !== 'ERR_STREAM_DESTROYED') throw feedError;
  if (result.exitCode !== 0) {
    const why = String(result.stderr ?? '').trim().split('\n').pop() || `zstd exited ${result.exitCode ?? result.signal}`;
    throw new DecompressError(why);
  }
  if (feedError) throw feedError;
}
