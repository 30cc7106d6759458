/**
 * npm run bench:lease -- the lease protocol at scale, with real node processes.
 *
 * For each cluster size, a run of zero-work items (the sim runner at speed 0)
 * on a fresh bucket, every node started at once with --exit-when-done:
 *   - items per second (first claim to last result);
 *   - conditional writes wasted per successful claim (lost creates and CAS);
 *   - store requests per completed item (all of the nodes' requests, the
 *     one-time capability probe at start-up aside), and its make-up;
 *   - the idle gap between one item's end and the same node's next claim;
 * and, per size, failover: a node hangs on the only item, the others wait,
 * it is SIGKILLed, and the time to the take-over is measured (target <= TTL + 2 s).
 *
 * Env: BENCH_NODES (default "1,2,4,8,16"), BENCH_ITEMS (2000), BENCH_TTL_MS
 * (10000), BENCH_ITEM_MS (0: zero-work items; otherwise items of 100 blocks
 * that the sim replays in about that long, where the time-based requests and
 * gossip's share show), BENCH_GOSSIP=off|on|both (off; both: each size without, then with
 * gossip, for the store requests gossip saves), BENCH_STORE=s3|file (s3: a
 * throwaway Ceph RGW unless REPLAY_S3_ENDPOINT is set).
 */
import { cpus, hostname, totalmem } from 'node:os';
import { runKeys } from '../src/layout/keys.js';
import type { NodeRecord } from '../src/records/node-record.js';
import { buildManifest } from '../src/manifest/build-manifest.js';
import { publishManifest } from '../src/manifest/publish.js';
import type { Store } from '../src/store/store.js';
import { readJson } from '../test/node/support/cluster-world.js';
import { NodeProcess, type LogLine } from '../test/node/support/node-process.js';
import { until } from '../test/support/until.js';
import { openBenchStores, type BenchTarget } from './support/bench-s3.js';

const sizes = (process.env.BENCH_NODES ?? '1,2,4,8,16').split(',').map(Number);
const items = Number(process.env.BENCH_ITEMS ?? 2000);
const ttlMs = Number(process.env.BENCH_TTL_MS ?? 10_000);
const gossipModes: boolean[] = ({ off: [false], on: [true], both: [false, true] } as Record<string, boolean[]>)[process.env.BENCH_GOSSIP ?? 'off'] ?? [];
if (gossipModes.length === 0) throw new Error('BENCH_GOSSIP must be off, on or both');
const itemMs = Number(process.env.BENCH_ITEM_MS ?? 0);
const span = itemMs > 0 ? 100 : 1;
const simSpeed = itemMs > 0 ? String(Math.round((span * 1000) / itemMs)) : '0';
const nodeArgs = (gossip: boolean): string[] =>
  ['--runner', 'sim', '--sim-speed', simSpeed, '--exit-when-done', ...(gossip ? ['--listen', '/ip4/127.0.0.1/tcp/0'] : ['--no-gossip'])];

interface Totals {
  requests: { total: number; put: number; get: number; head: number; list: number; conditionalFailures: number };
  scheduler: { claims: number; failedWrites: number; leaseReads: number; readsFor: { released: number; expiry: number; changed: number } };
  recordReads: { nodes: number; observers: number };
}

async function publish(store: Store, run: string, count: number, ttl: number): Promise<void> {
  const intervals = Array.from({ length: count }, (_, i) => ({ start: i * span, end: (i + 1) * span }));
  await publishManifest(store, buildManifest({ run, createdAt: new Date().toISOString(), intervals, defaults: { leaseTtlMs: ttl } }));
}

function join(target: BenchTarget, run: string, node: string, gossip: boolean, extra: string[] = []): NodeProcess {
  return new NodeProcess(node, ['--store', target.url, '--run', run, ...nodeArgs(gossip), ...extra], { ...target.env, LOG_LEVEL: 'info' });
}

const timeOf = (l: LogLine): number => l.time as number;
const quantile = (xs: number[], q: number): number => {
  if (xs.length === 0) return NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
};

/** Per node: from each `finished` line to the next `claimed` line of the same node. */
function idleGaps(node: NodeProcess): number[] {
  const gaps: number[] = [];
  let finishedAt: number | undefined;
  for (const line of node.logs) {
    if (line.msg.startsWith('finished ')) finishedAt = timeOf(line);
    else if (line.msg.startsWith('claimed ') && finishedAt !== undefined) {
      gaps.push(timeOf(line) - finishedAt);
      finishedAt = undefined;
    }
  }
  return gaps;
}

async function throughput(target: BenchTarget, n: number, gossip: boolean) {
  const run = `lease-bench-${n}-${gossip ? 'gossip' : 'store'}`;
  await publish(target.store, run, items, ttlMs);
  const nodes = Array.from({ length: n }, (_, i) => join(target, run, `b${String(i).padStart(2, '0')}`, gossip));
  const exits = await Promise.all(nodes.map((p) => p.exited));
  if (exits.some((e) => e.code !== 0)) throw new Error(`a node failed: ${nodes.map((p) => p.tail(3)).join('\n')}`);
  const lines = nodes.flatMap((p) => p.logs);
  const claims = lines.filter((l) => l.msg.startsWith('claimed ')).map(timeOf);
  const finishes = lines.filter((l) => l.msg.startsWith('finished ')).map(timeOf);
  if (finishes.length !== items) throw new Error(`expected ${items} finished items, saw ${finishes.length}`);
  const totals = nodes.map((p) => p.logs.find((l) => l.msg === 'node totals') as unknown as Totals);
  const sum = (f: (t: Totals) => number): number => totals.reduce((acc, t) => acc + f(t), 0);
  const seconds = (Math.max(...finishes) - Math.min(...claims)) / 1000;
  const gaps = nodes.flatMap(idleGaps);
  return {
    n,
    itemsPerSecond: items / seconds,
    wastePerClaim: sum((t) => t.scheduler.failedWrites) / sum((t) => t.scheduler.claims),
    requestsPerItem: sum((t) => t.requests.total) / items,
    putsPerItem: sum((t) => t.requests.put) / items,
    getsPerItem: sum((t) => t.requests.get + t.requests.head) / items,
    leaseReadsPerItem: sum((t) => t.scheduler.leaseReads) / items,
    headsPerItem: sum((t) => t.requests.head) / items,
    recordReadsPerItem: sum((t) => t.recordReads.nodes) / items,
    readsFor: ['released', 'expiry', 'changed'].map((k) => sum((t) => t.scheduler.readsFor[k as 'released']) / items),
    listsPerItem: sum((t) => t.requests.list) / items,
    gapP50: quantile(gaps, 0.5),
    gapP99: quantile(gaps, 0.99),
  };
}

async function failover(target: BenchTarget, n: number, gossip: boolean): Promise<number> {
  const run = `failover-bench-${n}-${gossip ? 'gossip' : 'store'}`;
  await publish(target.store, run, 1, ttlMs);
  const victim = join(target, run, 'victim', gossip, ['--sim-faults', JSON.stringify({ hang: { node: 'victim' } })]);
  const claimed = await victim.claimed();
  const waiters = Array.from({ length: n - 1 }, (_, i) => join(target, run, `w${String(i).padStart(2, '0')}`, gossip));
  // Every waiter has looked and found the lease held (its record says waiting) before the kill.
  await until(() => Promise.all(waiters.map((w) => readJson<NodeRecord>(target.store, runKeys(run).node(w.node)))),
    (records) => records.every((r) => r?.state === 'waiting'), 'waiters waiting', 60_000);
  const killedAt = Date.now();
  victim.signal('SIGKILL');
  const takeOver = await Promise.race(waiters.map((w) => w.waitForLog((l) => l.msg === `claimed ${claimed.item as string}`, 'take-over', 4 * ttlMs + 20_000)));
  await Promise.all(waiters.map((w) => w.exited));
  return (timeOf(takeOver) - killedAt) / 1000;
}

async function main(): Promise<void> {
  const stores = await openBenchStores();
  const rows: string[][] = [];
  let description = '';
  try {
    for (const n of sizes) for (const gossip of gossipModes) {
      const target = await stores.fresh(`lease${n}`);
      description = target.description;
      const t = await throughput(target, n, gossip);
      const f = n >= 2 ? await failover(target, n, gossip) : NaN;
      rows.push([
        String(n), gossip ? 'on' : 'off', t.itemsPerSecond.toFixed(0), t.wastePerClaim.toFixed(3), t.requestsPerItem.toFixed(2),
        `${t.putsPerItem.toFixed(2)} / ${t.getsPerItem.toFixed(2)} / ${t.listsPerItem.toFixed(2)}`,
        `${t.leaseReadsPerItem.toFixed(2)} (${t.readsFor.map((x) => x.toFixed(2)).join(' / ')}) / ${t.recordReadsPerItem.toFixed(2)} / ${t.headsPerItem.toFixed(2)}`,
        t.gapP50.toFixed(0), t.gapP99.toFixed(0), Number.isNaN(f) ? '-' : f.toFixed(1),
      ]);
      process.stderr.write(`# ${n} nodes, gossip ${gossip ? 'on' : 'off'} done\n`);
    }
  } finally {
    await stores.close();
  }
  const header = ['nodes', 'gossip', 'items/s', 'wasted writes/claim', 'requests/item', 'put / get+head / list per item', 'of which lease reads (released / expiry / changed) / node records / heads', 'idle gap p50 ms', 'idle gap p99 ms', 'failover s'];
  process.stdout.write(`bench:lease on ${description}: ${items} ${itemMs > 0 ? `items of ~${itemMs} ms (${span} blocks at ${simSpeed} blocks/s)` : "zero-work items"}, lease TTL ${ttlMs} ms\n`);
  process.stdout.write(`machine: ${hostname()}, ${cpus().length} cores, ${(totalmem() / 1024 ** 3).toFixed(0)} GiB, node ${process.version}, ${new Date().toISOString().slice(0, 10)}\n\n`);
  process.stdout.write(`| ${header.join(' | ')} |\n|${header.map(() => '---').join('|')}|\n`);
  for (const row of rows) process.stdout.write(`| ${row.join(' | ')} |\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:lease: ${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
});
