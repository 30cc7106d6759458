/**
 * npm run bench:gossip -- five gossip member processes on 127.0.0.1 (the
 * member driver from test/gossip: real libp2p, TCP, noise, yamux,
 * gossipsub; membership from a directory of member records).
 *
 * Measures: time to a full mesh, publish-to-delivery latency p50/p99 and
 * loss while every node publishes progress at BENCH_RATE msgs/s
 * (default 5) for BENCH_SECONDS (default 10), RSS and CPU per node busy and
 * idle, and how long a late joiner takes to hear every node (BENCH_LATE
 * rounds, default 3). BENCH_SWARM_KEY=1 runs the cluster with a swarm key.
 *
 * Latency is receiver wall clock minus the sender's `sentAt` (same host, so
 * one clock); `sentAt` has millisecond resolution. The driver is compiled
 * with tsc first (into node_modules/.cache) so tsx's transform is not in the
 * start-up, RSS or CPU numbers.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, hostname, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { generateSwarmKey } from '../src/gossip/swarm-key.js';
import { MemberProcess, type DriverLine } from '../test/gossip/support/member-process.js';

const RATE = Number(process.env.BENCH_RATE ?? 5);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const LATE_ROUNDS = Number(process.env.BENCH_LATE ?? 3);
const NODES = ['n1', 'n2', 'n3', 'n4', 'n5'];

const repo = fileURLToPath(new URL('..', import.meta.url));
const buildDir = join(repo, 'node_modules', '.cache', 'bench-gossip');
execFileSync(process.execPath, [
  join(repo, 'node_modules', 'typescript', 'bin', 'tsc'), '--outDir', buildDir, '--rootDir', repo,
  '--target', 'ES2022', '--module', 'NodeNext', '--moduleResolution', 'NodeNext', '--types', 'node', '--skipLibCheck', '--strict',
  join(repo, 'test', 'gossip', 'support', 'member-driver.ts'),
], { stdio: 'inherit' });
const compiledDriver = join(buildDir, 'test', 'gossip', 'support', 'member-driver.js');

const root = await mkdtemp(join(tmpdir(), 'bench-gossip-'));
const membersDir = join(root, 'members');
await mkdir(membersDir);
let swarmKeyFile: string | undefined;
if (process.env.BENCH_SWARM_KEY === '1') {
  swarmKeyFile = join(root, 'swarm.key');
  await writeFile(swarmKeyFile, generateSwarmKey());
}
const spawned: MemberProcess[] = [];
const start = (node: string): MemberProcess => {
  const member = new MemberProcess({ run: 'bench', node, dataDir: join(root, 'data', node), membersDir, swarmKeyFile }, {}, compiledDriver);
  spawned.push(member);
  return member;
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const item = (i: number) => `${String(i * 1000).padStart(10, '0')}-${String((i + 1) * 1000).padStart(10, '0')}`;
const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
type Message = Extract<DriverLine, { ev: 'message' }>;

try {
  // 1. Five members start at once and find each other through the member records.
  const t0 = performance.now();
  const cluster = NODES.map((node) => start(node));
  await Promise.all(cluster.map((m) => m.ready()));
  const allReadyMs = performance.now() - t0;
  cluster.forEach((m, i) => m.send({ cmd: 'progress', progress: { state: 'working', items: [{ item: item(i), headBlock: 0, blocksPerSecond: 0 }] } }));
  await Promise.all(cluster.flatMap((m) => cluster.filter((o) => o !== m).map((o) => m.heard(o.node))));
  const meshMs = performance.now() - t0;

  // 2. Steady publishing: every node RATE progress messages per second.
  const idleBefore = await Promise.all(cluster.map((m) => m.usage()));
  await sleep(5_000);
  const idleAfter = await Promise.all(cluster.map((m) => m.usage()));
  const marks = cluster.map((m) => m.lines.length);
  const busyBefore = await Promise.all(cluster.map((m) => m.usage()));
  const sent = new Set<string>();
  const ticks = RATE * SECONDS;
  const startedAt = performance.now();
  for (let tick = 0; tick < ticks; tick++) {
    cluster.forEach((m, i) => m.send({ cmd: 'progress', progress: { state: 'working', items: [{ item: item(i), headBlock: 1_000_000 + tick, blocksPerSecond: RATE } ] } }));
    const next = startedAt + ((tick + 1) * 1000) / RATE;
    await sleep(Math.max(0, next - performance.now()));
  }
  await sleep(1_000); // let the last messages arrive
  const busyAfter = await Promise.all(cluster.map((m) => m.usage()));
  const latencies: number[] = [];
  cluster.forEach((m, i) => {
    for (const line of m.lines.slice(marks[i])) {
      if (line.ev !== 'message') continue;
      const msg = (line as Message).message;
      if (msg.type !== 'progress' || msg.items[0]!.headBlock < 1_000_000) continue;
      sent.add(`${m.node}<-${msg.node}:${msg.items[0]!.headBlock}`);
      latencies.push((line as Message).at - msg.sentAt);
    }
  });
  const expected = ticks * NODES.length * (NODES.length - 1);
  latencies.sort((a, b) => a - b);
  const delivered = sent.size;

  // 3. Late joiners: time from process start and from listening to hearing all five.
  const late: Array<{ readyMs: number; allHeardMs: number }> = [];
  for (let round = 0; round < LATE_ROUNDS; round++) {
    const spawnedAt = performance.now();
    const joiner = start(`late${round}`);
    await joiner.ready();
    const readyAt = performance.now();
    await Promise.all(NODES.map((node) => joiner.heard(node, (m) => m.message.type === 'progress', 30_000)));
    late.push({ readyMs: readyAt - spawnedAt, allHeardMs: performance.now() - readyAt });
    await joiner.stop();
    await rm(join(membersDir, `late${round}.json`), { force: true });
  }

  const counters = await Promise.all(cluster.map((m) => m.counters()));
  const cpuPct = (a: { cpuMicros: number; atMs: number }, b: { cpuMicros: number; atMs: number }) =>
    ((b.cpuMicros - a.cpuMicros) / 1000 / (b.atMs - a.atMs)) * 100;

  console.log(`\nbench:gossip on ${hostname()} (${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 1024 ** 3).toFixed(0)} GiB), Node ${process.version}, ${NODES.length} member processes${swarmKeyFile ? ', swarm key' : ''}`);
  console.log(`\nstart: all listening ${allReadyMs.toFixed(0)} ms after spawn; every node heard every other ${meshMs.toFixed(0)} ms after spawn`);
  console.log(`\n| publishing | messages expected | delivered | lost | p50 ms | p99 ms | max ms |`);
  console.log('|---|---|---|---|---|---|---|');
  console.log(`| ${RATE}/s per node for ${SECONDS} s | ${expected} | ${delivered} | ${expected - delivered} | ${quantile(latencies, 0.5)} | ${quantile(latencies, 0.99)} | ${latencies.at(-1)} |`);
  console.log('\n| node | RSS MiB | CPU % idle (republish only) | CPU % publishing | connections | dropped |');
  console.log('|---|---|---|---|---|---|');
  cluster.forEach((m, i) => {
    const dropped = Object.entries(counters[i]!.dropped).filter(([, n]) => n > 0).map(([why, n]) => `${n} ${why}`).join(', ') || '0';
    console.log(`| ${m.node} | ${(busyAfter[i]!.rssBytes / 2 ** 20).toFixed(0)} | ${cpuPct(idleBefore[i]!, idleAfter[i]!).toFixed(1)} | ${cpuPct(busyBefore[i]!, busyAfter[i]!).toFixed(1)} | ${counters[i]!.connections} | ${dropped} |`);
  });
  console.log('\n| late joiner | spawn -> listening ms | listening -> heard all 5 ms |');
  console.log('|---|---|---|');
  late.forEach((r, i) => console.log(`| ${i + 1} | ${r.readyMs.toFixed(0)} | ${r.allHeardMs.toFixed(0)} |`));
} finally {
  await Promise.all(spawned.map((m) => m.stop().catch(() => m.kill())));
  await rm(root, { recursive: true, force: true });
}
