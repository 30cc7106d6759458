import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { writeNewSwarmKey } from '../../src/gossip/swarm-key.js';
import { runKeys } from '../../src/layout/keys.js';
import type { ResultRecord } from '../../src/records/result-record.js';
import { parseS3Url } from '../../src/store/s3-url.js';
import { publishRun, readResults } from '../../test/node/support/cluster-world.js';
import { NodeProcess } from '../../test/node/support/node-process.js';
import { createFaultProxy, FAULT_KINDS, proxiedUrl, type FaultPlan, type FaultProxy, type RecordedRequest } from '../../test/support/fault-proxy.js';
import { checkHistory, LogHistory, type HistoryReport } from '../../test/support/history.js';
import type { BenchTarget } from './bench-s3.js';
import { seededRandom } from './seeded-random.js';

/**
 * One phase of bench:chaos: a fresh bucket, a run of `items` sim items,
 * `hosts` real `replay-node join` processes whose every store request goes
 * through the fault proxy, and the chaos the config asks for: the proxy's
 * seeded faults, a SIGKILL of a random live node every `killEveryMs` (the
 * host "reboots": a replacement starts at once under a new node id, with
 * the host's clock skew and swarm key), skewed wall clocks, a gossip
 * partition (even and odd hosts get different swarm keys), an outage.
 * Everything is timed on this process's performance.now(), the clock of the
 * proxy's records and of the nodes' log arrivals.
 */
export interface PhaseConfig {
  name: string;
  hosts: number;
  items: number;
  ttlMs: number;
  /** Blocks per item and sim speed: 100 blocks at 50 blocks/s is 2 s. */
  span: number;
  simSpeed: number;
  /** Total fault probability per request, spread evenly over the five kinds. */
  faultRate: number;
  /** 0: no kills. */
  killEveryMs: number;
  seed: string;
  /** Wall-clock skew per host index (REPLAY_TEST_CLOCK_SKEW_MS). */
  skewMs: Record<number, number>;
  partition: boolean;
  outage?: { atMs: number; ms: number };
  timeoutMs: number;
  /** The store URL's timeoutMs for the nodes (their per-request cap from the start, the probe included); default the URL's 30 s. */
  requestTimeoutMs?: number;
}

export interface ChaosNode {
  process: NodeProcess;
  host: number;
  generation: number;
  spawnedAt: number;
  /** Set when the bench SIGKILLed it. */
  killedAt?: number;
  skewMs: number;
  group: string;
}

export interface PhaseRun {
  config: PhaseConfig;
  run: string;
  /** The store URL's prefix as the proxy sees keys ('' or ending in '/'). */
  keyPrefix: string;
  nodes: ChaosNode[];
  kills: Array<{ node: string; host: number; at: number }>;
  requests: RecordedRequest[];
  faultCounts: ReturnType<FaultProxy['counts']>;
  outages: Array<{ startMs: number; endMs?: number }>;
  history: LogHistory;
  report: HistoryReport;
  results: Map<string, ResultRecord>;
  startedAt: number;
  /** Last node exit. */
  endedAt: number;
  timedOut: boolean;
}

export function faultPlan(rate: number, seed: string): FaultPlan | undefined {
  if (rate <= 0) return undefined;
  return { seed, rates: Object.fromEntries(FAULT_KINDS.map((k) => [k, rate / FAULT_KINDS.length])) };
}

export async function runPhase(target: BenchTarget, config: PhaseConfig, log: (line: string) => void): Promise<PhaseRun> {
  const run = `chaos-${config.name}`;
  await publishRun(target.store, { run, items: config.items, ttlMs: config.ttlMs, span: config.span });
  const location = parseS3Url(target.url);
  if (!location.endpoint) throw new Error('bench:chaos needs an S3 endpoint to put the fault proxy in front of (RGW, MinIO)');
  const plan = faultPlan(config.faultRate, config.seed);
  const proxy = createFaultProxy({ upstream: location.endpoint, ...(plan ? { plan } : {}) });
  await proxy.start();
  const proxied = proxiedUrl(target.url, proxy.endpoint);
  const url = config.requestTimeoutMs ? `${proxied}${proxied.includes('?') ? '&' : '?'}timeoutMs=${config.requestTimeoutMs}` : proxied;
  const dir = await mkdtemp(join(tmpdir(), `bench-chaos-${config.name}-`));
  const groups = config.partition ? ['a', 'b'] : ['a'];
  await Promise.all(groups.map((g) => writeNewSwarmKey(join(dir, `${g}.key`))));

  const history = new LogHistory();
  const nodes: ChaosNode[] = [];
  const generations = new Map<number, number>();
  const spawn = (host: number): ChaosNode => {
    const generation = generations.get(host) ?? 0;
    generations.set(host, generation + 1);
    const id = `h${host}-${generation}`;
    const skewMs = config.skewMs[host] ?? 0;
    const group = groups[host % groups.length]!;
    const args = [
      '--store', url, '--run', run, '--runner', 'sim', '--sim-speed', String(config.simSpeed), '--exit-when-done',
      '--data-dir', join(dir, id), '--listen', '/ip4/127.0.0.1/tcp/0', '--swarm-key', join(dir, `${group}.key`),
    ];
    const process = new NodeProcess(id, args, { ...target.env, ...(skewMs ? { REPLAY_TEST_CLOCK_SKEW_MS: String(skewMs) } : {}) });
    history.attach(process);
    const node: ChaosNode = { process, host, generation, spawnedAt: performance.now(), skewMs, group };
    nodes.push(node);
    return node;
  };

  const resultsPrefix = location.prefix + runKeys(run).resultsPrefix;
  const resultsWritten = (): number => new Set(proxy.acceptedWrites((k) => k.startsWith(resultsPrefix)).map((r) => r.key)).size;
  const kills: PhaseRun['kills'] = [];
  const halt = new AbortController();
  const startedAt = performance.now();
  for (let host = 0; host < config.hosts; host++) spawn(host);

  const random = seededRandom(`${config.seed}/kills`);
  const killing = (async () => {
    if (config.killEveryMs <= 0) return;
    for (;;) {
      await sleep(config.killEveryMs, undefined, { signal: halt.signal }).catch(() => undefined);
      if (halt.signal.aborted || resultsWritten() >= config.items) return;
      const live = nodes.filter((n) => n.process.exitedAt === undefined && n.killedAt === undefined);
      const victim = live[Math.floor(random() * live.length)];
      if (!victim) return;
      victim.killedAt = performance.now();
      victim.process.signal('SIGKILL');
      kills.push({ node: victim.process.node, host: victim.host, at: victim.killedAt });
      spawn(victim.host);
    }
  })();
  const outage = config.outage
    ? sleep(config.outage.atMs, undefined, { signal: halt.signal }).then(() => {
        log(`# ${config.name}: store outage for ${config.outage!.ms} ms (the proxy refuses every connection)`);
        return proxy.outage(config.outage!.ms);
      }, () => undefined)
    : Promise.resolve();

  let timedOut = false;
  let lastProgress = 0;
  for (;;) {
    const pending = nodes.filter((n) => n.process.exitedAt === undefined);
    // A kill spawns its replacement at once, so no running node means the run is over (or every node gave up).
    if (pending.length === 0) break;
    await Promise.race([Promise.all(pending.map((n) => n.process.exited)), sleep(1_000)]);
    const now = performance.now();
    if (now - lastProgress > 30_000) {
      lastProgress = now;
      log(`# ${config.name}: ${((now - startedAt) / 1000).toFixed(0)} s, ${resultsWritten()} of ${config.items} results, ${kills.length} kills, ${pending.length} nodes running`);
    }
    if (now - startedAt > config.timeoutMs) {
      timedOut = true;
      log(`# ${config.name}: timed out after ${(config.timeoutMs / 1000).toFixed(0)} s; stopping the nodes`);
      break;
    }
  }
  halt.abort();
  await Promise.all([killing, outage]);
  if (timedOut) await stopAll(nodes);
  const endedAt = Math.max(...nodes.map((n) => n.process.exitedAt ?? performance.now()));
  await Promise.race([proxy.settled(), sleep(5_000)]);
  const requests = proxy.requests().map((r) => ({ ...r }));
  const faultCounts = proxy.counts();
  const outages = [...proxy.outages()];
  await proxy.stop();
  const report = await checkHistory({ store: target.store, run, history, requests, keyPrefix: location.prefix });
  const results = await readResults(target.store, run);
  await rm(dir, { recursive: true, force: true });
  return { config, run, keyPrefix: location.prefix, nodes, kills, requests, faultCounts, outages, history, report, results, startedAt, endedAt, timedOut };
}

async function stopAll(nodes: ChaosNode[]): Promise<void> {
  const live = nodes.filter((n) => n.process.exitedAt === undefined);
  for (const n of live) n.process.signal('SIGTERM');
  await Promise.race([Promise.all(live.map((n) => n.process.exited)), sleep(15_000)]);
  for (const n of live) if (n.process.exitedAt === undefined) n.process.signal('SIGKILL');
  await Promise.all(live.map((n) => n.process.exited));
}
