import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runKeys } from '../../src/layout/keys.js';
import { encodeJson } from '../../src/layout/schema.js';
import { expandSpacing, formatIntervalsCsv } from '../../src/manifest/expand.js';
import type { Manifest } from '../../src/manifest/manifest.js';
import { parseSpacing } from '../../src/manifest/spacing.js';
import { runManifestCli } from './support/cli.js';
import { realEnfManifestPath, realSpacing, realSpacingPath } from './support/real-data.js';

let dir: string;
let storeDir: string;
let store: string;
const readStored = async (run: string) => JSON.parse(await readFile(join(storeDir, runKeys(run).manifest), 'utf8')) as Manifest;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'manifest-cli-'));
  storeDir = join(dir, 'store');
  store = pathToFileURL(storeDir).href;
  await mkdir(join(storeDir, 'snapshots'), { recursive: true });
  for (const block of [0, 100_000_000]) await writeFile(join(storeDir, 'snapshots', `snapshot-x-${String(block).padStart(10, '0')}.bin.zst`), 'x');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('replay-manifest build', () => {
  it('prints the real table as the anchor\'s CSV, or as JSON', async () => {
    const csv = await runManifestCli(['build', '--spacing', realSpacingPath]);
    expect(csv.exitCode).toBe(0);
    expect(`${csv.stdout}\n`).toBe(formatIntervalsCsv(expandSpacing(parseSpacing(realSpacing(), 'real'))));
    const json = await runManifestCli(['build', '--spacing', realSpacingPath, '--format', 'json']);
    expect(JSON.parse(json.stdout)).toHaveLength(860);
  });

  it('refuses a bad table with one line naming the file, the line and the fix, exit 2', async () => {
    const bad = join(dir, 'bad.tsv');
    await writeFile(bad, 'start\tend\tspan\r\n0\t10\t5\r\n10\t20\t5\r\n15\t30\t5\r\n');
    const outcome = await runManifestCli(['build', '--spacing', bad]);
    expect(outcome.exitCode).toBe(2);
    expect(outcome.stdout).toBe('');
    expect(outcome.stderr).toBe(`replay-manifest: ${bad} line 4: start 15 is inside the previous row 10-20 (line 3): the rows overlap; make each row start where the previous one ends`);
    const missing = await runManifestCli(['build', '--spacing', join(dir, 'missing.tsv')]);
    expect([missing.exitCode, missing.stderr]).toEqual([2, `replay-manifest: cannot read spacing file ${join(dir, 'missing.tsv')}: no such file; check the path`]);
    const format = await runManifestCli(['build', '--spacing', realSpacingPath, '--format', 'xml']);
    expect(format.exitCode).not.toBe(0);
    expect(format.stderr).toMatch(/argument 'xml' is invalid\. Allowed choices are csv, json/);
  });
});

describe('replay-manifest slices', () => {
  it('prints a table whose last slice reaches the last block, and JSON with the snapshots from --store', async () => {
    const table = await runManifestCli(['slices', '--spacing', realSpacingPath]);
    expect(table.exitCode).toBe(0);
    const lines = table.stdout.split('\n');
    expect(lines[0]).toMatch(/^slice +start +end +blocks +intervals/);
    expect(lines[10]).toMatch(/^ +10 +272000000 +344317349 /);
    expect(lines[11]).toBe('no --store given: every slice starts from genesis');

    const json = await runManifestCli(['slices', '--spacing', realSpacingPath, '--count', '4', '--stride', '1000000', '--store', store, '--json']);
    const parsed = JSON.parse(json.stdout) as { lastBlock: number; slices: Array<{ start: number; end: number; snapshot: string | null }> };
    expect(parsed.slices).toHaveLength(4);
    expect(parsed.lastBlock).toBe(344_317_349);
    expect(parsed.slices.map((s) => s.snapshot)).toEqual([
      'snapshots/snapshot-x-0000000000.bin.zst',
      ...parsed.slices.slice(1).map((s) => (s.start >= 100_000_000 ? 'snapshots/snapshot-x-0100000000.bin.zst' : 'snapshots/snapshot-x-0000000000.bin.zst')),
    ]);
  });

  it('refuses a count of 0 and more slices than intervals', async () => {
    const zero = await runManifestCli(['slices', '--spacing', realSpacingPath, '--count', '0']);
    expect(zero.exitCode).not.toBe(0);
    expect(zero.stderr).toMatch(/--count <n>' argument '0' is invalid\. It must be a whole number >= 1/);
    const many = await runManifestCli(['slices', '--spacing', realSpacingPath, '--count', '861']);
    expect([many.exitCode, many.stderr]).toEqual([2, 'replay-manifest: slices: --count 861 is more than the 860 intervals; ask for at most 860 slices']);
  });
});

describe('replay-manifest publish, show, list', () => {
  it('publishes the real table with snapshots chosen per interval; again is a no-op; different is refused with exit 4', async () => {
    const first = await runManifestCli(['publish', '--store', store, '--run', 'real-1', '--spacing', realSpacingPath, '--chain-id', 'c'.repeat(64), '--lease-ttl-ms', '30000']);
    expect(first.exitCode).toBe(0);
    expect(first.stdout).toBe('published run real-1 (860 intervals, 860 items, blocks 0-344317349, 0 from genesis) at runs/real-1/manifest.json');
    const stored = await readStored('real-1');
    expect(stored.defaults.leaseTtlMs).toBe(30_000);
    expect(stored.intervals.filter((i) => i.snapshot!.key.endsWith('0100000000.bin.zst'))[0]!.start).toBeGreaterThanOrEqual(100_000_000);

    const again = await runManifestCli(['publish', '--store', store, '--run', 'real-1', '--spacing', realSpacingPath, '--chain-id', 'c'.repeat(64), '--lease-ttl-ms', '30000']);
    expect(again.exitCode).toBe(0);
    expect(again.stdout).toMatch(/^run real-1 is already published with the same content .*; nothing written$/);

    const different = await runManifestCli(['publish', '--store', store, '--run', 'real-1', '--spacing', realSpacingPath, '--chain-id', 'c'.repeat(64)]);
    expect(different.exitCode).toBe(4);
    expect(different.stderr).toMatch(/^replay-manifest: run real-1 already has a different manifest \(published .*; differs in defaults\); runs are immutable: publish under a new run id/);
    expect(await readStored('real-1')).toEqual(stored);
  });

  it('two processes publishing different manifests under one run id at once: exactly one wins', async () => {
    for (const round of [1, 2, 3]) {
      const run = `race-${round}`;
      const [a, b] = await Promise.all([
        runManifestCli(['publish', '--store', store, '--run', run, '--spacing', realSpacingPath, '--replicas', '1']),
        runManifestCli(['publish', '--store', store, '--run', run, '--spacing', realSpacingPath, '--replicas', '2']),
      ]);
      expect([a.exitCode, b.exitCode].sort()).toEqual([0, 4]);
      const [winner, loser] = a.exitCode === 0 ? [1, b] : [2, a];
      expect(loser.stderr).toMatch(new RegExp(`^replay-manifest: run ${run} already has a different manifest \\(published .*; differs in replicas\\); runs are immutable`));
      expect((await readStored(run)).replicas).toBe(winner);
    }
  });

  it('show prints the stored manifest as JSON or a table; list shows the runs', async () => {
    const json = await runManifestCli(['show', '--store', store, '--run', 'real-1']);
    expect(JSON.parse(json.stdout)).toEqual(await readStored('real-1'));
    const table = await runManifestCli(['show', '--store', store, '--run', 'real-1', '--table']);
    expect(table.stdout).toMatch(/^run +real-1\n/);
    expect(table.stdout).toMatch(/intervals +860 \(860 items\), blocks 0-344317349/);
    expect(table.stdout.trim().split('\n').at(-1)).toMatch(/^343975667 +344317349 +341682 +snapshots\/snapshot-x-0100000000\.bin\.zst +-$/);

    const list = await runManifestCli(['list', '--store', store, '--json']);
    const runs = JSON.parse(list.stdout) as Array<{ run: string; intervals: number }>;
    expect(runs.map((r) => r.run)).toEqual(expect.arrayContaining(['real-1', 'race-1', 'race-2', 'race-3']));
    expect(runs.find((r) => r.run === 'real-1')!.intervals).toBe(860);
    expect((await runManifestCli(['list', '--store', store])).stdout).toMatch(/^run +created +intervals/);

    const missing = await runManifestCli(['show', '--store', store, '--run', 'nope']);
    expect([missing.exitCode, missing.stderr]).toEqual([2, `replay-manifest: run nope has no manifest in ${store}; list the runs with "replay-manifest list --store URL"`]);
  });

  it('publish takes --expected, --replicas and a nodeos artifact whose sha256 it computes from the store', async () => {
    await mkdir(join(storeDir, 'artifacts'), { recursive: true });
    await writeFile(join(storeDir, 'artifacts', 'leap_5.0.2_amd64.deb'), 'not really a deb');
    const spacing = join(dir, 'small.tsv');
    await writeFile(spacing, '0\t1000\t400\n');
    const expected = join(dir, 'expected.txt');
    await writeFile(expected, `1000 ${'AB'.repeat(32)}\n`);
    const outcome = await runManifestCli([
      'publish', '--store', store, '--run', 'small', '--spacing', spacing, '--expected', expected, '--replicas', '3',
      '--nodeos-version', 'v5.0.2', '--artifact', 'artifacts/leap_5.0.2_amd64.deb', '--max-attempts', '5', '--min-free-disk-gib', '1',
    ]);
    expect(outcome.stderr).toBe(
      'note: 1 of 1 snapshots are unverified (no sha256 given, no snapshots/<name>.json record or .sha256 file), so nodes will not check their downloads; ' +
        'add --hash-snapshots to compute them (runs are immutable: under a new run id once published)',
    );
    expect(outcome.stdout).toBe('published run small (3 intervals, 9 items, blocks 0-1000, 0 from genesis) at runs/small/manifest.json');
    const m = await readStored('small');
    expect(m.intervals.map((i) => [i.start, i.end, i.expectedEndHash ?? null])).toEqual([[0, 400, null], [400, 800, null], [800, 1000, 'ab'.repeat(32)]]);
    const sha256 = createHash('sha256').update('not really a deb').digest('hex');
    expect(m.nodeos).toEqual({ version: 'v5.0.2', artifact: { key: 'artifacts/leap_5.0.2_amd64.deb', sha256 } });
    expect([m.replicas, m.defaults.maxAttempts, m.defaults.minFreeDiskBytes]).toEqual([3, 5, 1024 ** 3]);

    const wrongHash = await runManifestCli(['publish', '--store', store, '--run', 'small-2', '--spacing', spacing, '--expected', join(dir, 'bad-expected.txt')]);
    expect(wrongHash.stderr).toBe(`replay-manifest: cannot read expected hashes file ${join(dir, 'bad-expected.txt')}: no such file; check the path`);
    const noArtifact = await runManifestCli(['publish', '--store', store, '--run', 'small-2', '--spacing', spacing, '--nodeos-version', 'v5', '--artifact', 'artifacts/missing.deb']);
    expect([noArtifact.exitCode, noArtifact.stderr]).toEqual([2, `replay-manifest: --artifact artifacts/missing.deb is not in ${store}; upload it first`]);
    const badRun = await runManifestCli(['publish', '--store', store, '--run', 'a/b', '--spacing', spacing]);
    expect(badRun.exitCode).toBe(2);
    expect(badRun.stderr).toMatch(/--run "a\/b" is not a valid run id/);
    const dry = await runManifestCli(['publish', '--store', store, '--run', 'small-dry', '--spacing', spacing, '--dry-run']);
    expect((JSON.parse(dry.stdout) as Manifest).intervals).toHaveLength(3);
    expect((await runManifestCli(['show', '--store', store, '--run', 'small-dry'])).exitCode).toBe(2);
  });
});

describe('replay-manifest publish: snapshot sha256s', () => {
  it('takes them from records and .sha256 files, hashes the rest with --hash-snapshots, and names a corrupt record', async () => {
    const hashDir = join(dir, 'hash-store');
    const hashStore = pathToFileURL(hashDir).href;
    await mkdir(join(hashDir, 'snapshots'), { recursive: true });
    const put = (name: string, body: string | Buffer) => writeFile(join(hashDir, 'snapshots', name), body);
    const sha = (body: string | Buffer) => createHash('sha256').update(body).digest('hex');
    const big = randomBytes(3 * 1024 * 1024);
    await put('h-0000000000.bin.zst', 'from genesis, compressed');
    await put('h-0000000000.json', encodeJson({ schema: 'replay/snapshot/v1', sha256: sha('from genesis, compressed'), size: Buffer.byteLength('from genesis, compressed') }));
    await put('h-0000000400.bin.zst', 'at 400');
    await put('h-0000000400.bin.zst.sha256', `${sha('at 400')}  h-0000000400.bin.zst\n`);
    await put('h-0000000800.bin', big);
    const spacing = join(dir, 'hash.tsv');
    await writeFile(spacing, '0\t1000\t400\n');
    const shas = (m: Manifest) => m.intervals.map((i) => i.snapshot?.sha256 ?? null);

    const dry = await runManifestCli(['publish', '--store', hashStore, '--run', 'h-1', '--spacing', spacing, '--dry-run']);
    expect(dry.exitCode).toBe(0);
    expect(shas(JSON.parse(dry.stdout) as Manifest)).toEqual([sha('from genesis, compressed'), sha('at 400'), null]);
    expect(dry.stderr.split('\n')).toEqual([
      'sha256 of 2 of 3 snapshots: 1 from snapshot records, 1 from .sha256 files; nodes verify their downloads',
      expect.stringMatching(/^note: 1 of 3 snapshots are unverified .*; add --hash-snapshots to compute them/),
    ]);

    const hashed = await runManifestCli(['publish', '--store', hashStore, '--run', 'h-1', '--spacing', spacing, '--hash-snapshots']);
    expect(hashed.exitCode).toBe(0);
    expect(hashed.stdout).toBe('published run h-1 (3 intervals, 3 items, blocks 0-1000, 0 from genesis) at runs/h-1/manifest.json');
    expect(hashed.stderr.split('\n')).toEqual([
      'hashing 1 snapshot (3.0 MiB) from the store, 4 at a time',
      expect.stringMatching(new RegExp(`^hashed 1/1 snapshots/h-0000000800\\.bin: 3\\.0 MiB in \\d+\\.\\d s, sha256 ${sha(big)}$`)),
      'sha256 of 3 of 3 snapshots: 1 from snapshot records, 1 from .sha256 files, 1 hashed; nodes verify their downloads',
    ]);
    const stored = JSON.parse(await readFile(join(hashDir, runKeys('h-1').manifest), 'utf8')) as Manifest;
    expect(stored.intervals.map((i) => i.snapshot)).toEqual([
      { key: 'snapshots/h-0000000000.bin.zst', sha256: sha('from genesis, compressed') },
      { key: 'snapshots/h-0000000400.bin.zst', sha256: sha('at 400') },
      { key: 'snapshots/h-0000000800.bin', sha256: sha(big) },
    ]);

    await put('h-0000000000.json', '{"schema": "replay/snapshot/v1", "sha256": "5c1e"}');
    const corrupt = await runManifestCli(['publish', '--store', hashStore, '--run', 'h-2', '--spacing', spacing, '--hash-snapshots']);
    expect([corrupt.exitCode, corrupt.stdout, corrupt.stderr]).toEqual([
      1,
      '',
      'replay-manifest: corrupt snapshot record snapshots/h-0000000000.json: sha256 is "5c1e", not 64 hex digits; fix or delete it, then publish again',
    ]);
    expect((await runManifestCli(['show', '--store', hashStore, '--run', 'h-2'])).exitCode).toBe(2);
  });
});

describe('replay-manifest import-enf and rerun', () => {
  it('imports the real 899-slice ENF job manifest, then derives re-runs from it', async () => {
    const imported = await runManifestCli(['import-enf', realEnfManifestPath, '--store', store, '--run', 'enf-2024']);
    expect(imported.stdout).toBe('published run enf-2024 (899 intervals, 899 items, blocks 0-349798134, 0 from genesis) at runs/enf-2024/manifest.json');
    const enf = await readStored('enf-2024');
    expect(enf.nodeos).toEqual({ version: '5.0.2' });
    expect(enf.intervals[1]).toEqual({ start: 15819, end: 1415312, snapshot: { key: 'snapshots/snapshot-2018-06-10-13-eos-v6-0000015819.bin.zst' } });
    expect(enf.source).toEqual({ kind: 'enf-import', file: 'full-production-run-20240101.json', slices: 899 });

    const fromBlock = await runManifestCli(['rerun', '--store', store, '--from', 'enf-2024', '--run', 'enf-2024-b', '--from-block', '349106963', '--nodeos-version', 'v5.0.3']);
    expect(fromBlock.stdout).toBe('published run enf-2024-b (2 intervals, 2 items, blocks 349106963-349798134, 0 from genesis) at runs/enf-2024-b/manifest.json');
    expect((await readStored('enf-2024-b')).nodeos).toEqual({ version: 'v5.0.3' });

    const items = join(dir, 'items.txt');
    await writeFile(items, '# redo\n0000015819-0001415312\n');
    const picked = await runManifestCli(['rerun', '--store', store, '--from', 'enf-2024', '--run', 'enf-2024-c', '--items', items]);
    expect(picked.exitCode).toBe(0);
    expect((await readStored('enf-2024-c')).intervals).toEqual([enf.intervals[1]]);

    const failureDir = join(storeDir, runKeys('enf-2024').failuresOf('0000000000-0000015819'));
    await mkdir(failureDir, { recursive: true });
    await writeFile(join(failureDir, '01J0000000000000000000000.json'), encodeJson({ schema: 'replay/failure/v1', reason: 'crashed' }));
    const failed = await runManifestCli(['rerun', '--store', store, '--from', 'enf-2024', '--run', 'enf-2024-d', '--failed']);
    expect(failed.exitCode).toBe(0);
    const rerun = await readStored('enf-2024-d');
    expect(rerun.intervals).toEqual([enf.intervals[0]]);
    expect(rerun.source).toEqual({ kind: 'rerun', from: 'enf-2024', mode: 'failed', items: { '0000000000-0000015819': ['failed'] }, intervals: 1 });

    const twoModes = await runManifestCli(['rerun', '--store', store, '--from', 'enf-2024', '--run', 'x', '--failed', '--from-block', '5']);
    expect([twoModes.exitCode, twoModes.stderr]).toEqual([2, 'replay-manifest: give exactly one of --from-block N, --items FILE, --failed']);
    const same = await runManifestCli(['rerun', '--store', store, '--from', 'enf-2024', '--run', 'enf-2024', '--failed']);
    expect(same.stderr).toMatch(/--run must differ from --from/);
  });

  it('refuses a broken ENF file naming the slice', async () => {
    const broken = join(dir, 'broken.json');
    await writeFile(broken, JSON.stringify([{ start_block_id: 0, end_block_id: 10, snapshot_path: '' }, { start_block_id: 12, end_block_id: 20, snapshot_path: '' }]));
    const outcome = await runManifestCli(['import-enf', broken, '--store', store, '--run', 'broken']);
    expect([outcome.exitCode, outcome.stderr]).toEqual([
      2,
      `replay-manifest: ${broken}: slice [1]: start_block_id 12 leaves blocks 10-12 uncovered after the previous slice; fix the file or pass --allow-gaps`,
    ]);
  });
});

describe('--help', () => {
  it('every command has one that names its options', async () => {
    const expectations: Record<string, string[]> = {
      build: ['--spacing', '--format'],
      slices: ['--spacing', '--count', '--stride', '--store', '--json'],
      publish: ['--store', '--run', '--spacing', '--expected', '--replicas', '--chain-id', '--nodeos-version', '--artifact', '--lease-ttl-ms', '--max-attempts', '--hash-snapshots', '--dry-run', 'snapshots/<name>.json'],
      show: ['--store', '--run', '--table'],
      list: ['--store', '--json'],
      'import-enf': ['<file>', '--store', '--run', '--allow-gaps', '--replicas', '--hash-snapshots'],
      rerun: ['--store', '--from', '--run', '--from-block', '--items', '--failed', '--hash-snapshots'],
    };
    await Promise.all(
      Object.entries(expectations).map(async ([command, options]) => {
        const help = await runManifestCli([command, '--help']);
        expect(help.exitCode, command).toBe(0);
        for (const option of options) expect(help.stdout, `${command} ${option}`).toContain(option);
      }),
    );
  });
});
