/**
 * npm run bench:chaos -- a whole run under faults, against the same run
 * without them, in one invocation on one RGW (issue 12, point 4).
 *
 * Phases (BENCH_PHASES, default "baseline,chaos"), each on a fresh bucket:
 *   baseline: BENCH_NODES real `replay-node join` processes (sim runner,
 *     gossip on, one swarm key), every store request through the fault proxy
 *     with no faults (the same path as chaos), no kills, no skew;
 *   chaos: the same, plus BENCH_FAULT_RATE faults per request spread evenly
 *     over error-500, error-503, drop-reset, drop-silent and delay (seeded);
 *     a SIGKILL of a random live node every BENCH_KILL_EVERY_MS, its host
 *     "rebooting" at once as a new node id (same clock skew, same swarm key);
 *     hosts 0 and 1 with wall clocks +9 and -10 minutes off
 *     (REPLAY_TEST_CLOCK_SKEW_MS); a gossip partition (even and odd hosts
 *     have different swarm keys, so the two halves never gossip with each
 *     other); optionally a store outage (BENCH_OUTAGE_MS at BENCH_OUTAGE_AT_MS).
 * Checked: no two nodes believing they hold one lease at once, no second
 * accepted result PUT, no lost item, every lease final, no node exiting
 * non-zero on its own (test/support/history.ts). Exit 1 when any fails.
 *
 * Env: BENCH_NODES (8), BENCH_ITEMS (500), BENCH_ITEM_MS (2000: 100 blocks
 * at 50 blocks/s), BENCH_TTL_MS (10000), BENCH_FAULT_RATE (0.05),
 * BENCH_KILL_EVERY_MS (5000; 0: none), BENCH_SEED (chaos-1), BENCH_PHASES,
 * BENCH_OUTAGE_MS (0: none), BENCH_OUTAGE_AT_MS (60000), BENCH_TIMEOUT_MS
 * (1800000 per phase), BENCH_URL_TIMEOUT_MS (0: the store URL's default;
 * else `timeoutMs=` on the nodes' store URL, which caps every request from
 * the start, the capability probe included), BENCH_LOG_DIR (keep every node's log lines and the
 * proxy's record there, bench/support/chaos-logs.ts). Needs `npm run build` (the nodes run bin/replay-node.js)
 * and an S3 server: a throwaway Ceph RGW, or REPLAY_S3_ENDPOINT.
 */
import { cpus, loadavg, totalmem } from 'node:os';
import { formatHistoryReport } from '../test/support/history.js';
import { openBenchStores } from './support/bench-s3.js';
import { breakdown, type Breakdown } from './support/chaos-breakdown.js';
import { saveLogs } from './support/chaos-logs.js';
import { runPhase, type PhaseConfig, type PhaseRun } from './support/chaos-phase.js';

const env = (name: string, fallback: number): number => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a number >= 0`);
  return value;
};
const hosts = env('BENCH_NODES', 8);
const items = env('BENCH_ITEMS', 500);
const itemMs = env('BENCH_ITEM_MS', 2000);
const ttlMs = env('BENCH_TTL_MS', 10_000);
const faultRate = env('BENCH_FAULT_RATE', 0.05);
const killEveryMs = env('BENCH_KILL_EVERY_MS', 5_000);
const outageMs = env('BENCH_OUTAGE_MS', 0);
const outageAtMs = env('BENCH_OUTAGE_AT_MS', 60_000);
const timeoutMs = env('BENCH_TIMEOUT_MS', 1_800_000);
const requestTimeoutMs = env('BENCH_URL_TIMEOUT_MS', 0);
const seed = process.env.BENCH_SEED ?? 'chaos-1';
const phases = (process.env.BENCH_PHASES ?? 'baseline,chaos').split(',').map((p) => p.trim());
if (phases.some((p) => p !== 'baseline' && p !== 'chaos')) throw new Error('BENCH_PHASES lists baseline and/or chaos');
const span = 100;
const simSpeed = Math.round((span * 1000) / itemMs);
const log = (line: string): void => void process.stderr.write(`${line}\n`);

function configOf(name: string): PhaseConfig {
  const common = { name, hosts, items, ttlMs, span, simSpeed, seed, timeoutMs, ...(requestTimeoutMs > 0 ? { requestTimeoutMs } : {}) };
  if (name === 'baseline') return { ...common, faultRate: 0, killEveryMs: 0, skewMs: {}, partition: false };
  return {
    ...common, faultRate, killEveryMs, skewMs: { 0: 540_000, 1: -600_000 }, partition: true,
    ...(outageMs > 0 ? { outage: { atMs: outageAtMs, ms: outageMs } } : {}),
  };
}

const q = (xs: number[], p: number): number => {
  if (xs.length === 0) return NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
};
const f1 = (x: number): string => (Number.isFinite(x) ? x.toFixed(1) : '-');
const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
const entries = (o: Record<string, number>, top = 99): string =>
  Object.entries(o).filter(([, v]) => v > 0).sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, v]) => `${k} ${v}`).join(', ') || 'none';

/** Exits by code, the bench's own SIGKILLs apart; and the nodes that exited non-zero on their own. */
function exits(phase: PhaseRun): { text: string; selfFailed: string[] } {
  const counts: Record<string, number> = {};
  const selfFailed: string[] = [];
  for (const n of phase.nodes) {
    const exit = phase.history.exits().get(n.process.node);
    const what = n.killedAt !== undefined ? 'SIGKILL (bench)' : exit?.signal ? `signal ${exit.signal}` : `code ${exit?.code ?? '?'}`;
    counts[what] = (counts[what] ?? 0) + 1;
    if (n.killedAt === undefined && (exit?.code !== 0 || exit.signal)) selfFailed.push(`${n.process.node} (${what}): ${n.process.tail(3)}`);
  }
  return { text: entries(counts), selfFailed };
}

function rows(phase: PhaseRun, b: Breakdown): Array<[string, string]> {
  const r = phase.report;
  const c = phase.faultCounts;
  const perItem = (n: number): string => (n / r.items).toFixed(2);
  const byKind = b.requests.byKind;
  const leasePuts = byKind['PUT leases'] ?? 0;
  return [
    ['run complete: every result written, every lease final (s)', f1(b.completeS)],
    ['last result written (s)', f1(b.lastResultS)],
    ['last node exited (s)', f1(b.wallS)],
    ['items / results / failed for good', `${r.items} / ${r.results} / ${r.failedItems.length}`],
    ['result overwrites', String(r.overwrites.length)],
    ['lease overlaps', String(r.overlaps.length)],
    ['lost items', String(r.lost.length)],
    ['unfinished leases', String(r.unfinishedLeases.length)],
    ['unexplained failures / other problems', `${r.unexplainedFailures.length} / ${r.problems.length}`],
    ['failure records by reason', entries(r.failuresByReason)],
    ['faults injected (500 / 503 / reset / silent / delay)', `${c['error-500']} / ${c['error-503']} / ${c['drop-reset']} / ${c['drop-silent']} / ${c.delay}`],
    ['outage windows (s)', phase.outages.map((o) => `${f1((o.startMs - phase.startedAt) / 1000)}-${f1(((o.endMs ?? o.startMs) - phase.startedAt) / 1000)}`).join(', ') || 'none'],
    ['kills (SIGKILL, host restarted as a new node id)', String(phase.kills.length)],
    ['node processes / exits', `${phase.nodes.length} / ${exits(phase).text}`],
    ['store requests per item (all / lease PUTs / probe)', `${perItem(b.requests.total)} / ${perItem(leasePuts)} / ${perItem(b.requests.probe)}`],
  ];
}

function breakdownRows(b: Breakdown): Array<[string, string]> {
  const sl = b.slots;
  const pct = (x: number): string => `${f1(x)} (${((100 * x) / sl.capacity).toFixed(0)} %)`;
  const t = b.takeovers;
  return [
    ['every item claimed once by (s)', f1(b.allClaimedS)],
    ['node-seconds to the last result', f1(sl.capacity)],
    ['  replaying, kept (the result\'s holder)', pct(sl.useful)],
    ['  replaying, thrown away (killed, lease lost)', pct(sl.wasted)],
    ['  starting (spawn to \'node starting\': modules, probe, manifest, gossip)', pct(sl.starting)],
    ['  idle while unclaimed items remained', pct(sl.idleWithFreeWork)],
    ['  idle after every item was claimed once', pct(sl.idleStarved)],
    ['items held by a killed node / not taken over / result already written', `${t.items} / ${t.notTaken} / ${t.finishedByVictim}`],
    ['kill to take-over p50 / max (s)', `${f1(q(t.killToTakeoverS, 0.5))} / ${f1(Math.max(...t.killToTakeoverS))}`],
    ['take-over after lease expiry (last write + TTL) p50 / max / sum (s)', `${f1(q(t.expiredWaitS, 0.5))} / ${f1(Math.max(...t.expiredWaitS))} / ${f1(sum(t.expiredWaitS))}`],
    ['store unavailable: episodes / node-seconds / longest (s)', `${b.unavailable.episodes} / ${f1(b.unavailable.nodeSeconds)} / ${f1(b.unavailable.longestS)}`],
    ['  first failing step', entries(b.unavailable.byWhat, 6)],
    ['drop-silent: requests / client-seconds waited / p50 wait (s)', `${b.silent.count} / ${f1(sum(b.silent.waitedS))} / ${f1(q(b.silent.waitedS, 0.5))}`],
    ['  on (requests, client-seconds)', Object.entries(b.silent.byKind).sort((x, y) => (b.silent.secondsByKind[y[0]] ?? 0) - (b.silent.secondsByKind[x[0]] ?? 0)).slice(0, 6).map(([k, n]) => `${k} ${n} (${f1(b.silent.secondsByKind[k] ?? 0)})`).join(', ') || 'none'],
    ['delays: requests / seconds', `${b.delayed.count} / ${f1(b.delayed.totalS)}`],
    ['lease beliefs not ended by their holder', entries(b.leaseLosses)],
    ['items acquired more than once / replayed to a result twice', `${b.itemsReacquired} / ${b.itemsReplayedTwice}`],
    ['spawn to first lease p50: first nodes / replacements (max) (s)', `${f1(q(b.startup.initialS, 0.5))} / ${f1(q(b.startup.replacementS, 0.5))} (${f1(Math.max(...b.startup.replacementS))})`],
    ['spawn to \'node starting\' (module load, probe, manifest) p50 (s)', f1(q(b.startup.toNodeStartingS, 0.5))],
    ['gap between a node\'s items p50 / p99 (ms), gaps > 1 s', `${q(b.idleGapsMs, 0.5).toFixed(0)} / ${q(b.idleGapsMs, 0.99).toFixed(0)}, ${b.idleGapsMs.filter((g) => g > 1000).length}`],
    ['spawn to \'node starting\' over 10 s: processes / seconds; killed before it', `${b.startup.toNodeStartingS.filter((x) => x > 10).length} / ${f1(sum(b.startup.toNodeStartingS.filter((x) => x > 10)))}; ${b.startup.endedBeforeStarting}`],
    ['exit tail: run complete to last exit (s)', f1(b.wallS - b.completeS)],
  ];
}

function table(title: string, names: string[], columns: Array<Array<[string, string]>>): string {
  const out = [`| ${title} | ${names.join(' | ')} |`, `|---|${names.map(() => '---').join('|')}|`];
  columns[0]!.forEach(([label], i) => out.push(`| ${label} | ${columns.map((c) => c[i]![1]).join(' | ')} |`));
  return out.join('\n');
}

async function main(): Promise<void> {
  const loadBefore = loadavg();
  const stores = await openBenchStores('s3');
  const done: Array<{ phase: PhaseRun; b: Breakdown }> = [];
  let description = '';
  try {
    for (const name of phases) {
      const target = await stores.fresh(`chaos-${name}`);
      description = target.description;
      log(`# phase ${name}: ${hosts} nodes, ${items} items of ~${itemMs} ms, TTL ${ttlMs} ms`);
      const phase = await runPhase(target, configOf(name), log);
      done.push({ phase, b: breakdown(phase) });
      if (process.env.BENCH_LOG_DIR) log(`# phase ${name}: logs and proxy records in ${await saveLogs(process.env.BENCH_LOG_DIR, phase)}`);
      log(`# phase ${name} done in ${f1(done.at(-1)!.b.wallS)} s`);
    }
  } finally {
    await stores.close();
  }
  const loadAfter = loadavg();
  const out: string[] = [];
  out.push(`bench:chaos on ${description}: ${hosts} nodes, ${items} items of 100 blocks at ${simSpeed} blocks/s (~${itemMs} ms), lease TTL ${ttlMs} ms, seed ${seed}`);
  out.push(`chaos: ${(faultRate * 100).toFixed(1)} % faults per request (${(faultRate * 20).toFixed(2)} % each of 500, 503, reset, silent, delay), SIGKILL every ${killEveryMs} ms (host restarted as a new node id), hosts 0/1 clocks +9/-10 min, gossip split even/odd hosts (two swarm keys)${outageMs > 0 ? `, outage ${outageMs} ms at ${outageAtMs} ms` : ', no outage'}`);
  if (requestTimeoutMs > 0) out.push(`nodes' store URL with timeoutMs=${requestTimeoutMs} (every request, the start-up probe included)`);
  out.push(`machine: ${cpus().length} cores, ${(totalmem() / 1024 ** 3).toFixed(0)} GiB, node ${process.version}, load average before ${loadBefore.map((l) => l.toFixed(1)).join(' ')}, after ${loadAfter.map((l) => l.toFixed(1)).join(' ')}`);
  const names = done.map((d) => d.phase.config.name);
  out.push('', table('measure', names, done.map((d) => rows(d.phase, d.b))));
  const base = done.find((d) => d.phase.config.name === 'baseline');
  const chaos = done.find((d) => d.phase.config.name === 'chaos');
  if (base && chaos) {
    const ratio = (f: (b: Breakdown) => number): string => (f(chaos.b) / f(base.b)).toFixed(2);
    out.push('', `wall-time ratio chaos / baseline, run complete: **${ratio((b) => b.completeS)}** (target <= 1.5); to the last node's exit: ${ratio((b) => b.wallS)}`);
  }
  out.push('', table('where the time went', names, done.map((d) => breakdownRows(d.b))));
  let failed = false;
  for (const { phase, b } of done) {
    out.push('', `${phase.config.name}: the last results`, ...b.lastItems.map((l) => `  ${l}`));
    out.push(formatHistoryReport(phase.report, 10));
    const r = phase.report;
    const { selfFailed } = exits(phase);
    const violations = [
      ...r.overlaps.map((o) => `overlap on ${o.item}: ${o.a.node}@${o.a.epoch} ${f1((o.a.startMs - phase.startedAt) / 1000)}-${f1(((o.a.endMs ?? phase.endedAt) - phase.startedAt) / 1000)} s and ${o.b.node}@${o.b.epoch} ${f1((o.b.startMs - phase.startedAt) / 1000)}-${f1(((o.b.endMs ?? phase.endedAt) - phase.startedAt) / 1000)} s, ${o.overlapMs.toFixed(0)} ms`),
      ...r.overwrites.map((o) => `overwrite of ${o.key}: ${o.writes} accepted PUTs by ${o.clients.join(', ')}`),
      ...r.lost.map((i) => `lost item ${i}`),
      ...r.unfinishedLeases.map((u) => `unfinished lease ${u.item}: ${u.state}`),
      ...selfFailed.map((s) => `node exited on its own: ${s}`),
      ...(phase.timedOut ? [`phase timed out after ${timeoutMs} ms`] : []),
    ];
    for (const v of violations) out.push(`SAFETY ${phase.config.name}: ${v}`);
    failed ||= violations.length > 0;
  }
  process.stdout.write(`${out.join('\n')}\n`);
  if (failed) process.exitCode = 1;
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:chaos: ${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
});
