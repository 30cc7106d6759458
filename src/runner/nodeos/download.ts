import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { spawn, type ChildProcess } from 'node:child_process';
import type { Store } from '../../store/store.js';
import { messageOf } from '../../util/message-of.js';

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
    throw new TransferError(`downloading ${key} failed: ${messageOf(error)}`, { cause: error });
  }
  return { sha256: hash.digest('hex'), bytes };
}

async function decompressInto(source: NodeJS.ReadableStream, hasher: Transform, target: string, signal?: AbortSignal): Promise<void> {
  // zstd writes the file itself through an inherited descriptor, so the
  // decompressed bytes never pass through this process (execa's file output
  // would relay them, and kills the child past its 100 MB maxBuffer).
  const out = await open(target, 'w');
  let zstd: ChildProcess;
  try {
    zstd = spawn('zstd', ['-d', '-q', '-c', '--no-progress'], { stdio: ['pipe', out.fd, 'pipe'], signal, killSignal: 'SIGKILL' });
  } finally {
    // The child holds its own copy of the descriptor once spawned.
    await out.close();
  }
  let stderr = '';
  zstd.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-2000);
  });
  const exited = new Promise<{ code: number | null; signal: string | null; error?: Error }>((resolve) => {
    zstd.on('error', (error) => resolve({ code: null, signal: null, error }));
    zstd.on('close', (code, sig) => resolve({ code, signal: sig }));
  });
  // zstd dying on bad input closes its stdin (EPIPE here); its exit status says why.
  // The feed's failure, kept as a failure (a thrown value may be anything, even falsy).
  const feeding = pipeline(source, hasher, zstd.stdin!, { signal }).then(
    (): { error: unknown } | undefined => undefined,
    (error: unknown) => ({ error }),
  );
  const result = await exited;
  const feedError = await feeding;
  if (signal?.aborted) throw signal.reason;
  if (result.error) throw new TransferError(`cannot run zstd: ${result.error.message}`);
  // A source failure also makes zstd see a truncated stream: report the source, not corruption.
  const code = (feedError?.error as NodeJS.ErrnoException | undefined)?.code;
  if (feedError && code !== 'EPIPE' && code !== 'ERR_STREAM_DESTROYED') throw feedError.error;
  if (result.code !== 0) {
    const why = stderr.trim().split('\n').pop() || `zstd exited ${result.code ?? result.signal}`;
    throw new DecompressError(why);
  }
  if (feedError) throw feedError.error;
}
