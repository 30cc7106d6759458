import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { createFileStore } from '../../src/store/file.js';
import type { Store } from '../../src/store/store.js';
import { systemClock } from '../../src/time/system-clock.js';

/** The store a benchmark runs against, plus the baseline "plain download" of the same object. */
export interface BenchStore {
  store: Store;
  description: string;
  /** The reference download: the SDK's GetObject for S3, a file copy for the file store. */
  plainDownload(key: string, target: string): Promise<void>;
  close(): Promise<void>;
}

export async function openBenchStore(kind: string, dir: string): Promise<BenchStore> {
  if (kind === 'file') {
    await mkdir(dir, { recursive: true });
    const store = createFileStore(dir, { clock: systemClock });
    return {
      store,
      description: 'file (local directory)',
      plainDownload: (key, target) => pipeline(createReadStream(`${dir}/${key}`), createWriteStream(target)),
      close: () => store.close(),
    };
  }
  throw new Error(`unknown BENCH_STORE ${kind}; use s3 or file`);
}
