import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { listAll, type Store } from '../../store/store.js';
import { RunnerFailure } from '../runner.js';
import { DecompressError, downloadObject } from './download.js';
import { messageOf } from '../../util/message-of.js';

/**
 * Optional block-log input: nodeos splits its block log into stride files
 * `blocks-<first>-<last>.log` + `.index` (blocks-log-stride); the ENF tool
 * fetched the one covering the start block so nodeos could replay from disk
 * instead of p2p. Files live under the store's `blocks/` prefix, possibly
 * zstd-compressed (`.log.zst`, `.index.zst`).
 */
const STRIDE_FILE = /(?:^|\/)blocks-(\d+)-(\d+)\.log(\.zst)?$/;

export interface StrideFile {
  key: string;
  first: number;
  last: number;
}

/** The stride file holding the first block to replay (start + 1), if the store has one. */
export async function findStrideFile(store: Store, prefix: string, start: number): Promise<StrideFile | undefined> {
  const wanted = start + 1;
  for await (const object of listAll(store, prefix)) {
    const match = STRIDE_FILE.exec(object.key);
    if (!match) continue;
    const first = Number(match[1]);
    const last = Number(match[2]);
    if (first <= wanted && wanted <= last) return { key: object.key, first, last };
  }
  return undefined;
}

/**
 * Downloads the stride file (and its index, when present) into
 * `<blocksDir>/retained/` where nodeos's `blocks-retained-dir` points.
 * @returns the local log path, or undefined when the store has none
 */
export async function fetchStrideFile(store: Store, prefix: string, start: number, blocksDir: string, signal: AbortSignal): Promise<string | undefined> {
  const stride = await findStrideFile(store, prefix, start);
  if (!stride) return undefined;
  const retained = join(blocksDir, 'retained');
  await mkdir(retained, { recursive: true });
  const compressed = stride.key.endsWith('.zst');
  const base = `blocks-${stride.first}-${stride.last}`;
  const logPath = join(retained, `${base}.log`);
  try {
    await downloadObject(store, stride.key, logPath, { decompress: compressed, signal });
    const indexKey = stride.key.replace(/\.log(\.zst)?$/, `.index${compressed ? '.zst' : ''}`);
    const hasIndex = await store.head(indexKey).then(() => true, () => false);
    if (hasIndex) await downloadObject(store, indexKey, join(retained, `${base}.index`), { decompress: compressed, signal });
  } catch (error) {
    if (signal.aborted) throw signal.reason;
    const reason = error instanceof DecompressError ? 'corrupt-blocks' : 'fetch-failed';
    throw new RunnerFailure(reason, `block log ${stride.key}: ${messageOf(error)}`);
  }
  return logPath;
}
