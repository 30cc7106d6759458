/**
 * npm run bench:manifest -- how long the manifest tools take on the real ENF
 * inputs (404-row spacing table -> 860 intervals; 899-slice job manifest).
 *
 * In-process steps run BENCH_ROUNDS times (default 200) after one cold run;
 * the table gives the cold run, the median and p99. The CLI row is the wall
 * time of `replay-manifest build` as a user runs it (process start included),
 * BENCH_CLI_ROUNDS times (default 5). Run `npm run build` first for it.
 */
import { execFile as execFileCb } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { cpus, hostname, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { buildManifest } from '../src/manifest/build-manifest.js';
import { expandSpacing, formatIntervalsCsv } from '../src/manifest/expand.js';
import { parseEnfManifest } from '../src/manifest/import-enf.js';
import { publishManifest } from '../src/manifest/publish.js';
import { cutSlices } from '../src/manifest/slices.js';
import { SnapshotIndex } from '../src/manifest/snapshots.js';
import { parseSpacing } from '../src/manifest/spacing.js';
import { createFileStore } from '../src/store/file.js';
import { systemClock } from '../src/time/system-clock.js';

const execFile = promisify(execFileCb);
const data = (name: string) => fileURLToPath(new URL(`../data/enf/${name}`, import.meta.url));
const spacingPath = data('optimized_block_spacing.tsv');
const enfPath = data('full-production-run-20240101.json');
const cli = fileURLToPath(new URL('../bin/replay-manifest.js', import.meta.url));
const rounds = Number(process.env.BENCH_ROUNDS ?? 200);
const cliRounds = Number(process.env.BENCH_CLI_ROUNDS ?? 5);

interface Row {
  step: string;
  coldMs: number;
  medianMs: number;
  p99Ms: number;
}

async function measure(step: string, n: number, fn: (i: number) => unknown): Promise<Row> {
  const times: number[] = [];
  for (let i = 0; i <= n; i++) {
    const t0 = performance.now();
    await fn(i);
    times.push(performance.now() - t0);
  }
  const cold = times.shift()!;
  times.sort((a, b) => a - b);
  return { step, coldMs: cold, medianMs: times[Math.floor(times.length / 2)]!, p99Ms: times[Math.min(times.length - 1, Math.ceil(times.length * 0.99) - 1)]! };
}

async function main(): Promise<void> {
  const spacingText = readFileSync(spacingPath, 'utf8');
  const enfText = readFileSync(enfPath, 'utf8');
  const intervals = expandSpacing(parseSpacing(spacingText, spacingPath));
  const snapshots = new SnapshotIndex(parseEnfManifest(enfText, enfPath).intervals.map((i) => i.snapshot!.key));
  const createdAt = new Date(systemClock.now()).toISOString();
  const dir = await mkdtemp(join(tmpdir(), 'bench-manifest-'));
  const store = createFileStore(dir, { clock: systemClock });
  const rows: Row[] = [];
  try {
    rows.push(await measure('parse + validate 404-row table', rounds, () => parseSpacing(spacingText, spacingPath)));
    rows.push(await measure('parse + expand to 860 intervals', rounds, () => expandSpacing(parseSpacing(spacingText, spacingPath))));
    rows.push(await measure('... + CSV output', rounds, () => formatIntervalsCsv(expandSpacing(parseSpacing(spacingText, spacingPath)))));
    rows.push(await measure('10 slices on 2M strides', rounds, () => cutSlices(intervals, { count: 10, stride: 2_000_000 }, snapshots)));
    rows.push(await measure('build manifest (899 snapshots to choose from)', rounds, () => buildManifest({ run: 'bench', createdAt, intervals, snapshots })));
    rows.push(await measure('parse 899-slice ENF job manifest', rounds, () => parseEnfManifest(enfText, enfPath)));
    rows.push(
      await measure('publish to a file store (new run each time)', Math.min(rounds, 50), (i) =>
        publishManifest(store, buildManifest({ run: `bench-${i}`, createdAt, intervals, snapshots })),
      ),
    );
    rows.push(await measure('`replay-manifest build` (new process)', cliRounds, () => execFile('node', [cli, 'build', '--spacing', spacingPath])));
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }

  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  console.log(`\nbench:manifest on ${hostname()} (${cpus().length} x ${cpu}, ${(totalmem() / 1024 ** 3).toFixed(0)} GiB), Node ${process.version}, ${rounds} rounds (CLI: ${cliRounds})`);
  console.log('| step | cold ms | median ms | p99 ms |');
  console.log('|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.step} | ${r.coldMs.toFixed(2)} | ${r.medianMs.toFixed(2)} | ${r.p99Ms.toFixed(2)} |`);
}

await main();
