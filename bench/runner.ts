/**
 * npm run bench:runner -- the nodeos runner's input path on a real S3 store.
 *
 * For each snapshot size (a zstd object of that size in the store):
 *   - plain download: the AWS SDK's GetObject streamed to a local file;
 *   - runner fetch: the runner's snapshot fetch (store stream -> sha256 ->
 *     `zstd -d` -> file), the same object, in the same run, alternating;
 *   - download, then decompress (what the ENF tool did), for reference;
 *   - peak RSS of this process (standing in for replay-node) during the fetch;
 *   - claim -> nodeos started: NodeosRunner.run() with the fake nodeos, from the
 *     call to the nodeos process running, with a cold and a warm cache.
 *
 * Options (env): BENCH_SIZES_MIB (default "256,1024"), BENCH_ROUNDS (2),
 * BENCH_STORE=s3|file (s3, the default: the endpoint in RGW_ENDPOINT,
 * RGW_ACCESS_KEY, RGW_SECRET_KEY, e.g. printed by ceph-rgw-start.sh with a
 * memstore big enough for the 1 GiB object; file: a local directory, for a dry
 * run without S3).
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, open, rm, stat } from 'node:fs/promises';
import { hostname, cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { execFile as execFileCb, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { SnapshotCache } from '../src/runner/nodeos/fetch-snapshot.js';
import { NodeosRunner } from '../src/runner/nodeos/nodeos-runner.js';
import { overwrite, type Store } from '../src/store/store.js';
import { systemClock } from '../src/time/system-clock.js';
import { silentLogger } from '../src/util/logger.js';
import { openBenchStore, type BenchStore } from './support/bench-store.js';

const MIB = 1024 * 1024;
const execFile = promisify(execFileCb);
const FAKE_NODEOS = fileURLToPath(new URL('../test/fixtures/fake-nodeos/nodeos.cjs', import.meta.url));
const sizes = (process.env.BENCH_SIZES_MIB ?? '256,1024').split(',').map(Number);
const rounds = Number(process.env.BENCH_ROUNDS ?? 2);

/**
 * A snapshot-like payload: the fake nodeos header, then 64 KiB blocks of
 * 40 KiB incompressible bytes + 24 KiB repetitive ones (zstd -1 gets about
 * 0.63, near real snapshots), compressed by a zstd process to `path`, until
 * the compressed file reaches `targetBytes`.
 */
async function makeSnapshot(path: string, targetBytes: number, block: number): Promise<{ sha256: string; bytes: number; plainBytes: number }> {
  const random = randomBytes(64 * MIB);
  const text = Buffer.from('eosio.token transfer memo account balance '.repeat(600)).subarray(0, 24 * 1024);
  const plainBytes = Math.ceil(targetBytes / 0.63);
  let produced = 0;
  let offset = 0;
  // The fake's binary header (test/fixtures/fake-nodeos/nodeos.cjs): magic, binary version 1,
  // chain snapshot version 8, body length (u32 LE each), then the JSON line; the body's
  // length is known up front because the payload is whole 64 KiB blocks.
  const meta = Buffer.from(`${JSON.stringify({ chain_id: 'bench', head_block_num: block })}\n`);
  const bodyLength = meta.length + Math.ceil(plainBytes / (64 * 1024)) * 64 * 1024;
  if (bodyLength > 0xffffffff) throw new Error(`a ${targetBytes} B snapshot is too big for the fake's u32 body length`);
  const prefix = Buffer.alloc(16);
  prefix.writeUInt32LE(0x30510550, 0);
  prefix.writeUInt32LE(1, 4);
  prefix.writeUInt32LE(8, 8);
  prefix.writeUInt32LE(bodyLength, 12);
  const header = Buffer.concat([prefix, meta]);
  async function* chunks(): AsyncGenerator<Buffer> {
    yield header;
    while (produced < plainBytes) {
      const slice = random.subarray(offset, offset + 40 * 1024);
      offset = (offset + 40 * 1024 + 4096) % (random.length - 40 * 1024);
      yield Buffer.concat([slice, text]);
      produced += 64 * 1024;
    }
  }
  const out = await open(path, 'w');
  const zstd = spawn('zstd', ['-1', '-T2', '-q', '-c'], { stdio: ['pipe', out.fd, 'inherit'] });
  await out.close();
  const exited = new Promise<number | null>((resolve) => zstd.on('close', resolve));
  await pipeline(Readable.from(chunks()), zstd.stdin!);
  if ((await exited) !== 0) throw new Error('zstd failed while making the snapshot');
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return { sha256: hash.digest('hex'), bytes: (await stat(path)).size, plainBytes: produced + header.length };
}

/** Samples this process's RSS every 10 ms while `work` runs. */
async function withPeakRss<T>(work: () => Promise<T>): Promise<{ value: T; peakRss: number; baseRss: number }> {
  const baseRss = process.memoryUsage.rss();
  let peakRss = baseRss;
  const timer = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
  }, 10);
  try {
    const value = await work();
    return { value, peakRss: Math.max(peakRss, process.memoryUsage.rss()), baseRss };
  } finally {
    clearInterval(timer);
  }
}

async function timed<T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const t0 = performance.now();
  const value = await work();
  return { value, ms: performance.now() - t0 };
}

interface Row {
  size: string;
  sdkMBs: number;
  fetchMBs: number;
  ratio: number;
  twoStepMBs: number;
  peakRssMiB: number;
  rssGrowthMiB: number;
  coldStartMs: number;
  warmStartMs: number;
}

async function benchOne(bench: BenchStore, work: string, sizeMiB: number): Promise<Row> {
  const store: Store = bench.store;
  const block = 1_000;
  const file = join(work, `snapshot-${sizeMiB}.bin.zst`);
  const made = await makeSnapshot(file, sizeMiB * MIB, block);
  const key = `snapshots/bench-${sizeMiB}.bin.zst`;
  await store.putStream(key, createReadStream(file), overwrite, { size: made.bytes });
  await rm(file);
  const ref = { key, sha256: made.sha256 };

  let sdkBest = Infinity;
  let fetchBest = Infinity;
  let twoStepBest = Infinity;
  let peakRss = 0;
  let rssGrowth = 0;
  const measurements: Record<string, () => Promise<void>> = {
    async sdk() {
      const out = join(work, 'sdk.out');
      const run = await timed(() => bench.plainDownload(key, out));
      sdkBest = Math.min(sdkBest, run.ms);
      await rm(out, { force: true });
    },
    async fetch() {
      const cacheDir = join(work, 'cache');
      const cache = new SnapshotCache(cacheDir, 1, { store, clock: systemClock });
      const fetched = await withPeakRss(() => timed(() => cache.fetch(ref, new AbortController().signal)));
      fetchBest = Math.min(fetchBest, fetched.value.ms);
      peakRss = Math.max(peakRss, fetched.peakRss);
      rssGrowth = Math.max(rssGrowth, fetched.peakRss - fetched.baseRss);
      await rm(cacheDir, { recursive: true, force: true });
    },
    // What the ENF tool did: download the archive, then decompress it.
    async twoStep() {
      const archive = join(work, 'two-step.zst');
      const run = await timed(async () => {
        await bench.plainDownload(key, archive);
        await execFile('zstd', ['-d', '-q', '-f', archive, '-o', join(work, 'two-step.bin')]);
      });
      twoStepBest = Math.min(twoStepBest, run.ms);
      await rm(archive, { force: true });
      await rm(join(work, 'two-step.bin'), { force: true });
    },
  };
  for (let round = 0; round < rounds; round++) {
    // Alternate the order, and flush dirty pages before each, so no measurement pays for another's writeback.
    const order = round % 2 === 0 ? ['sdk', 'fetch', 'twoStep'] : ['fetch', 'twoStep', 'sdk'];
    for (const name of order) {
      await execFile('sync', []);
      await measurements[name]!();
    }
  }

  // Claim -> nodeos started, through the whole runner (preflight, fetch, config, spawn).
  const dataDir = join(work, `runner-${sizeMiB}`);
  const runner = new NodeosRunner(
    { dataDir, nodeosBin: FAKE_NODEOS, minFreeDiskBytes: 1, progressIntervalMs: 200, env: { FAKE_NODEOS_BPS: '5000' } },
    { clock: systemClock, logger: silentLogger, store },
  );
  await runner.prepare();
  const item = { run: 'bench', itemId: `bench-${sizeMiB}`, start: block, end: block + 200, snapshot: ref, chainId: 'bench' };
  const cold = await runner.run(item, { signal: new AbortController().signal, onProgress: () => {} });
  const warm = await runner.run(item, { signal: new AbortController().signal, onProgress: () => {} });
  await runner.close();
  await rm(dataDir, { recursive: true, force: true });
  await store.delete(key);

  const mbs = (ms: number): number => made.bytes / MIB / (ms / 1000);
  return {
    size: `${(made.bytes / MIB).toFixed(0)} MiB zst (${(made.plainBytes / MIB).toFixed(0)} MiB)`,
    sdkMBs: mbs(sdkBest),
    fetchMBs: mbs(fetchBest),
    ratio: sdkBest / fetchBest,
    twoStepMBs: mbs(twoStepBest),
    peakRssMiB: peakRss / MIB,
    rssGrowthMiB: rssGrowth / MIB,
    coldStartMs: cold.timings.untilStarted ?? NaN,
    warmStartMs: warm.timings.untilStarted ?? NaN,
  };
}

async function main(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'bench-runner-'));
  await mkdir(work, { recursive: true });
  const bench = await openBenchStore(process.env.BENCH_STORE ?? 's3', join(work, 'store'));
  const rows: Row[] = [];
  try {
    for (const size of sizes) {
      process.stderr.write(`bench:runner ${size} MiB...\n`);
      rows.push(await benchOne(bench, work, size));
    }
  } finally {
    await bench.close();
    await rm(work, { recursive: true, force: true });
  }
  const cpu = cpus()[0]?.model ?? 'unknown cpu';
  console.log(`\nbench:runner on ${hostname()} (${cpus().length} x ${cpu}, ${(totalmem() / 1024 ** 3).toFixed(0)} GiB), store ${bench.description}, best of ${rounds}`);
  console.log('| snapshot | SDK download MiB/s | runner fetch+zstd -d MiB/s | fetch / SDK | download, then zstd -d MiB/s | peak RSS MiB | RSS growth MiB | claim -> nodeos started, cold ms | warm ms |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    console.log(`| ${r.size} | ${r.sdkMBs.toFixed(0)} | ${r.fetchMBs.toFixed(0)} | ${(r.ratio * 100).toFixed(0)} % | ${r.twoStepMBs.toFixed(0)} | ${r.peakRssMiB.toFixed(0)} | ${r.rssGrowthMiB.toFixed(0)} | ${r.coldStartMs.toFixed(0)} | ${r.warmStartMs.toFixed(0)} |`);
  }
}

await main();
