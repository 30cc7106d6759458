/**
 * npm run bench:observer -- the observer on a run of BENCH_ITEMS (default
 * 100,000) items with results for half, 16 working nodes, the rest pending.
 *
 * Store: BENCH_STORE=rgw (a throwaway Ceph RGW from the test harness, the
 * default when its packages are installed) or file. Objects are written with
 * the real record encoders (test/status/support/run-fixture.ts).
 *
 * Measures, with the real `replay-observer serve` process:
 *   - time from spawn to a complete view (every listed object read), and the
 *     store requests it spent (its /metrics);
 *   - its RSS (VmRSS, and the peak VmHWM) once complete and with a browser attached;
 *   - the grid page in headless Chromium: bytes transferred, time to the
 *     first full canvas draw, and the draw itself;
 *   - event-to-browser latency: a gossip member process (the test driver,
 *     standing in for a node, listed in the store like one) publishes `done`
 *     for an item whose result it just wrote; the time until the browser's
 *     grid has that cell done (BENCH_EVENTS events, default 50).
 *
 * The seeded nodes write a results digest per 100 results, as real nodes do;
 * BENCH_DIGESTS=0 leaves them out (the reader then GETs every result).
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, hostname, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { mapLimit } from '../src/util/map-limit.js';
import { createFileStore } from '../src/store/file.js';
import { createS3Store } from '../src/store/s3.js';
import { parseS3Url } from '../src/store/s3-url.js';
import type { ResultRecord } from '../src/records/result-record.js';
import type { Store } from '../src/store/store.js';
import { systemClock } from '../src/time/system-clock.js';
import { MemberProcess } from '../test/gossip/support/member-process.js';
import { cellBecomes, launchBrowser, pageState } from '../test/observer/support/browser.js';
import { ObserverProcess } from '../test/observer/support/observer-process.js';
import { RunFixture } from '../test/status/support/run-fixture.js';
import { runBuiltCli } from '../test/support/cli.js';
import { rgwUnavailableReason, startRgw, type RunningRgw } from '../test/support/rgw.js';

const ITEMS = Number(process.env.BENCH_ITEMS ?? 100_000);
const EVENTS = Number(process.env.BENCH_EVENTS ?? 50);
const NODES = 16;
/** BENCH_DIGESTS=0 seeds no results digests (every result must then be read, the observer before digests). */
const DIGESTS = process.env.BENCH_DIGESTS !== '0';
const RUN = 'bench';
const log = (line: string) => process.stderr.write(`${line}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;

interface Target {
  kind: string;
  store: Store;
  /** What seeding writes through (the store itself, or a faster equivalent). */
  seedStore?: Store;
  url: string;
  env: Record<string, string>;
  close(): Promise<void>;
}

/**
 * Seeding 100,000 objects through the file store fsyncs each one (minutes);
 * the bench writes the same bytes at the same paths directly (the file
 * store's layout is key = path), which the observer cannot tell apart.
 */
function directFileWriter(dir: string): Store {
  const made = new Set<string>();
  const put = async (key: string, body: Uint8Array | string) => {
    const path = join(dir, key);
    const parent = dirname(path);
    if (!made.has(parent)) {
      await mkdir(parent, { recursive: true });
      made.add(parent);
    }
    await writeFile(path, body);
    return { etag: '', storeDate: new Date(0) };
  };
  return { put } as unknown as Store;
}

async function openTarget(root: string): Promise<Target> {
  const wanted = process.env.BENCH_STORE ?? ((await rgwUnavailableReason(log)) === undefined ? 'rgw' : 'file');
  if (wanted === 'file') {
    const dir = join(root, 'store');
    const store = createFileStore(dir, { clock: systemClock });
    return { kind: 'file', store, seedStore: directFileWriter(dir), url: pathToFileURL(dir).href, env: {}, close: () => store.close() };
  }
  if (wanted !== 'rgw') throw new Error(`BENCH_STORE=${wanted}: use rgw or file`);
  const rgw: RunningRgw = await startRgw(log);
  const bucket = `bench-observer-${process.pid}`;
  const admin = new S3Client({ region: rgw.region, endpoint: rgw.endpoint, forcePathStyle: true, credentials: { accessKeyId: rgw.accessKeyId, secretAccessKey: rgw.secretAccessKey } });
  await admin.send(new CreateBucketCommand({ Bucket: bucket }));
  admin.destroy();
  const url = `s3://${bucket}?endpoint=${encodeURIComponent(rgw.endpoint)}&region=${rgw.region}`;
  const store = createS3Store(parseS3Url(url), { clock: systemClock, credentials: { accessKeyId: rgw.accessKeyId, secretAccessKey: rgw.secretAccessKey } });
  const env = { AWS_ACCESS_KEY_ID: rgw.accessKeyId, AWS_SECRET_ACCESS_KEY: rgw.secretAccessKey, AWS_REGION: rgw.region, AWS_EC2_METADATA_DISABLED: 'true', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
  return { kind: `Ceph RGW (memstore) on 127.0.0.1`, store, url, env, close: async () => { await store.close(); await rgw.stop(); } };
}

async function seed(run: RunFixture, driverPeer: { peerId: string; addrs: string[] }): Promise<number> {
  const started = performance.now();
  await run.publish({ count: ITEMS, span: 1000, leaseTtlMs: 600_000 });
  const items = run.itemIds();
  let written = 0;
  const progress = setInterval(() => log(`  seeded ${written} / ${ITEMS} items`), 10_000);
  const byNode = new Map<string, ResultRecord[]>();
  await mapLimit(items.slice(0, ITEMS / 2), 48, async (item) => {
    const node = `node-${(written % NODES) + 1}`;
    const record = await run.done(item, { node });
    byNode.set(node, byNode.get(node) ?? []);
    byNode.get(node)!.push(record);
    written += 1;
  });
  // What the nodes write after their results: a digest per 100 (src/node/digest-writer.ts).
  if (DIGESTS) {
    const batches = [...byNode].flatMap(([node, records]) => Array.from({ length: Math.ceil(records.length / 100) }, (_, i) => [node, records.slice(i * 100, i * 100 + 100)] as const));
    await mapLimit(batches, 48, async ([node, records]) => void (await run.digest(node, records)));
  }
  await mapLimit(Array.from({ length: NODES }, (_, i) => i), NODES, async (i) => {
    const item = items[ITEMS / 2 + i]!;
    const node = `node-${i + 1}`;
    await run.lease(item, { holder: node, ttlMs: 600_000 });
    await run.node(node, { items: [{ item, epoch: 1, startedAt: 'x', headBlock: (ITEMS / 2 + i) * 1000 + 400, blocksPerSecond: 300 }], staleAfterMs: 3_600_000, peerId: undefined, addrs: undefined });
    written += 1;
  });
  clearInterval(progress);
  // The gossip stand-in is listed like a node, so the observer takes it as a member.
  await run.node('bench-node', { state: 'working', staleAfterMs: 3_600_000, peerId: driverPeer.peerId, addrs: driverPeer.addrs });
  return (performance.now() - started) / 1000;
}

async function procStatus(pid: number): Promise<{ rss: number; hwm: number }> {
  const text = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(text)?.[1] ?? NaN) / 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

async function metric(base: string, pattern: RegExp): Promise<number[]> {
  const text = await (await fetch(`${base}/metrics`)).text();
  return [...text.matchAll(new RegExp(pattern, 'g'))].map((m) => Number(m[1]));
}

const root = await mkdtemp(join(tmpdir(), 'bench-observer-'));
const target = await openTarget(root);
const membersDir = join(root, 'members');
await mkdir(membersDir);
const driver = new MemberProcess({ run: RUN, node: 'bench-node', dataDir: join(root, 'driver'), membersDir });
const observer = new ObserverProcess();
let browser: Awaited<ReturnType<typeof launchBrowser>> | undefined;
const rows: Array<[string, string, string]> = [];
try {
  const ready = (await driver.ready()) as { peerId: string; addrs: string[] };
  log(`seeding ${ITEMS} items into ${target.kind} ...`);
  const seedSeconds = await seed(new RunFixture(target.seedStore ?? target.store, RUN), ready);
  log(`  seeded in ${seedSeconds.toFixed(1)} s`);

  // 0. What the store alone takes to list the run (so the observer's own share is visible).
  const listStarted = performance.now();
  let listed = 0;
  let listings = 0;
  for (let startAfter: string | undefined; ; listings++) {
    const page = await target.store.list({ prefix: `runs/${RUN}/`, startAfter });
    listed += page.items.length;
    if (!page.nextStartAfter) break;
    startAfter = page.nextStartAfter;
  }
  rows.push([`the store alone: list the run's ${listed} objects (${listings + 1} requests)`, `${((performance.now() - listStarted) / 1000).toFixed(2)} s`, '']);

  // 1. Start to complete view.
  const spawnedAt = performance.now();
  const base = await observer.start(
    ['--store', target.url, '--run', RUN, '--id', 'bench-observer', '--data-dir', join(root, 'observer'), '--listen', '/ip4/127.0.0.1/tcp/0'],
    {
      ...target.env,
      ...(process.env.BENCH_OBSERVER_LOG ? { LOG_LEVEL: process.env.BENCH_OBSERVER_LOG } : {}),
      ...(process.env.BENCH_OBSERVER_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_OBSERVER_NODE_OPTIONS } : {}),
    },
  );
  const listeningS = (performance.now() - spawnedAt) / 1000;
  // The API answers once every item's state is known (the listings); hashes follow as the results are read.
  let status = (await (await fetch(`${base}/api/runs/${RUN}`)).json()) as { complete: boolean; items: Record<string, number> };
  const statesS = (performance.now() - spawnedAt) / 1000;
  if (status.items.done !== ITEMS / 2) throw new Error(`states incomplete: ${JSON.stringify(status.items)}`);
  while (!status.complete) {
    await sleep(250);
    status = (await (await fetch(`${base}/api/runs/${RUN}`)).json()) as typeof status;
  }
  const completeS = (performance.now() - spawnedAt) / 1000;
  const requests: Record<string, number> = {};
  for (const kind of ['get', 'list', 'head', 'put']) requests[kind] = (await metric(base, new RegExp(`replay_observer_store_requests_total\\{kind="${kind}"\\} (\\d+)`)))[0] ?? 0;
  const rssComplete = await procStatus(observer.pid!);
  rows.push(['start to listening', `${listeningS.toFixed(2)} s`, '']);
  rows.push(['start to every item state (listings)', `${statesS.toFixed(2)} s`, '']);
  rows.push(['start to complete view (result hashes read too)', `${completeS.toFixed(2)} s`, '<= 10 s']);
  rows.push(['store requests for it', `${requests.get} GET + ${requests.list} LIST (+${requests.put} PUT presence)`, '']);
  rows.push(['observer RSS at complete view', `${rssComplete.rss.toFixed(0)} MB (peak ${rssComplete.hwm.toFixed(0)} MB)`, '<= 300 MB']);

  // 2. The grid page in Chromium.
  browser = await launchBrowser();
  const page = await browser.context.newPage();
  let bytes = 0;
  page.on('response', (response) => {
    if (!response.url().includes('/events')) void response.body().then((b) => (bytes += b.length), () => {});
  });
  const navStarted = performance.now();
  await page.goto(`${base}/runs/${RUN}/grid`, { waitUntil: 'load' });
  const drawn = await pageState(page); // the script draws the grid before 'load' fires
  const wallToDrawn = performance.now() - navStarted;
  if (drawn.drawnAt === null || drawn.drawMs === null || drawn.cells.length !== ITEMS) throw new Error('the grid was not drawn');
  await sleep(500); // let the body sizes settle
  rows.push(['grid page weight (HTML + JS + CSS)', `${(bytes / 1024).toFixed(0)} KiB`, '']);
  rows.push(['grid: navigation to first full draw', `${drawn.drawnAt.toFixed(0)} ms (wall ${wallToDrawn.toFixed(0)} ms)`, '']);
  rows.push(['grid: canvas draw of all cells', `${drawn.drawMs.toFixed(1)} ms`, '']);

  // 3. Event to browser over gossip.
  const presence = join(membersDir, 'bench-observer.json');
  const observerRecord = await readObserverRecord(target.store);
  await writeFile(presence, JSON.stringify({ node: 'bench-observer', peerId: observerRecord.peerId, addrs: observerRecord.addrs }));
  const meshStarted = performance.now();
  for (;;) {
    driver.send({ cmd: 'progress', progress: { state: 'working', items: [] } });
    const nodes = (await (await fetch(`${base}/api/runs/${RUN}/nodes`)).json()) as Array<{ node: string; progressFrom: string }>;
    if (nodes.find((n) => n.node === 'bench-node')?.progressFrom === 'gossip') break;
    if (performance.now() - meshStarted > 60_000) throw new Error('the observer did not hear the gossip member within 60 s');
    await sleep(250);
  }
  rows.push(['gossip: observer hears the member after', `${((performance.now() - meshStarted) / 1000).toFixed(1)} s`, '']);
  const overview = await browser.context.newPage();
  await overview.goto(`${base}/runs/${RUN}`);
  await overview.locator('#live', { hasText: /^live$/ }).waitFor();
  const run = new RunFixture(target.store, RUN);
  run.manifest = await loadManifest(target.store);
  const items = run.itemIds();
  const latencies: number[] = [];
  for (let k = 0; k < EVENTS; k++) {
    const index = ITEMS / 2 + NODES + 10 + k;
    const item = items[index]!;
    const result = await run.done(item, { node: 'bench-node' });
    const sentAt = Date.now();
    driver.send({ cmd: 'event', event: { event: 'done', item, hash: result.endHash } });
    await cellBecomes(overview, index, 'd', 30_000).catch(async (error: unknown) => {
      const accepted = await metric(base, /replay_observer_gossip_accepted_total\{run="bench"\} (\d+)/);
      const api = (await (await fetch(`${base}/api/runs/${RUN}/grid`)).json()) as { cells: string };
      log(`event ${k} for ${item} (cell ${index}) not seen: gossip accepted ${accepted}, API cell ${api.cells[index]}, page updates ${(await pageState(overview)).updates}, gossip on page ${JSON.stringify((await pageState(overview)).received.filter((r) => r.type === "gossip").map((r) => r.data))}; observer log: ${observer.stderr.slice(-3000)}`);
      throw error;
    });
    const received = (await pageState(overview)).received;
    const arrival = received.find((r) => r.type === 'cells-diff' && (r.data as Array<[number, string]>).some(([i]) => i === index));
    latencies.push(arrival!.at - sentAt);
    await sleep(100);
  }
  latencies.sort((a, b) => a - b);
  rows.push([`event to browser (${EVENTS} gossip 'done' events)`, `p50 ${quantile(latencies, 0.5)} ms, p99 ${quantile(latencies, 0.99)} ms, max ${latencies.at(-1)} ms`, 'p99 <= 1 s']);
  const rssLive = await procStatus(observer.pid!);
  rows.push(['observer RSS with 2 browser pages attached', `${rssLive.rss.toFixed(0)} MB (peak ${rssLive.hwm.toFixed(0)} MB)`, '<= 300 MB']);

  // 4. The same computation one-shot: `replay-node status --json` as a new process.
  const statusStarted = performance.now();
  const cli = await runBuiltCli('replay-node', ['status', '--store', target.url, '--run', RUN, '--json'], target.env);
  if (cli.exitCode !== 0) throw new Error(`replay-node status failed: ${cli.stderr}`);
  rows.push(['`replay-node status --json` (new process)', `${((performance.now() - statusStarted) / 1000).toFixed(2)} s, ${(cli.stdout.length / 1024).toFixed(0)} KiB`, '']);

  console.log(`\nbench:observer  ${ITEMS} items (${ITEMS / 2} with results, ${NODES} working, ${DIGESTS ? 'results digests of 100' : 'no results digests'}), store: ${target.kind}`);
  console.log(`machine: ${cpus().length} x ${cpus()[0]?.model ?? '?'}, ${(totalmem() / 1024 ** 3).toFixed(0)} GiB, Node ${process.version}, host ${hostname()}, ${new Date().toISOString().slice(0, 10)}`);
  console.log(`seeding took ${seedSeconds.toFixed(1)} s\n`);
  console.log('| measure | value | target |\n|---|---|---|');
  for (const [name, value, goal] of rows) console.log(`| ${name} | ${value} | ${goal} |`);
} finally {
  if (process.env.BENCH_OBSERVER_LOG) log(observer.stderr);
  await browser?.close().catch(() => {});
  await observer.stop().catch(() => {});
  await driver.stop().catch(() => {});
  await target.close().catch(() => {});
  await rm(root, { recursive: true, force: true });
}

async function readObserverRecord(store: Store): Promise<{ peerId: string; addrs: string[] }> {
  for (let i = 0; i < 100; i++) {
    try {
      const got = await store.get(`runs/${RUN}/observers/bench-observer.json`);
      if (!('notModified' in got)) return JSON.parse(Buffer.from(got.body).toString('utf8')) as { peerId: string; addrs: string[] };
    } catch {
      await sleep(200);
    }
  }
  throw new Error('the observer wrote no presence record');
}

async function loadManifest(store: Store) {
  const got = await store.get(`runs/${RUN}/manifest.json`);
  if ('notModified' in got) throw new Error('unexpected 304');
  return JSON.parse(Buffer.from(got.body).toString('utf8')) as RunFixture['manifest'];
}
