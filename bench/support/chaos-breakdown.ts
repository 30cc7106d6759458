import { runKeys } from '../../src/layout/keys.js';
import { isAcceptedWrite, type RecordedRequest } from '../../test/support/fault-proxy.js';
import type { LeaseInterval } from '../../test/support/history.js';
import type { ChaosNode, PhaseRun } from './chaos-phase.js';

/**
 * Where a phase's time went, measured from the outside: the nodes' log lines
 * (lease beliefs, store health), the proxy's record of every request, the
 * bench's own kills and the results in the store. Times are seconds from the
 * phase's start unless named otherwise.
 */
export interface Breakdown {
  /** First spawn to the last node's exit. */
  wallS: number;
  /** The first accepted PUT of the last result. */
  lastResultS: number;
  /** The run is complete in the store: every result written and the last accepted lease write (the last lease made final). */
  completeS: number;
  /** Every item had been claimed at least once (afterwards only re-tries are left). */
  allClaimedS: number;
  /**
   * Node-seconds over [start, last result], by what the node did (they add up to hosts x last result;
   * a kill's replacement starts at once, so each host is always one process).
   */
  slots: { capacity: number; useful: number; wasted: number; starting: number; idleWithFreeWork: number; idleStarved: number };
  takeovers: { items: number; notTaken: number; finishedByVictim: number; killToTakeoverS: number[]; expiredWaitS: number[] };
  unavailable: { episodes: number; nodeSeconds: number; longestS: number; byWhat: Record<string, number> };
  /** Requests the proxy never answered: how long each client waited (its timeout, or its death), by request kind. */
  silent: { count: number; waitedS: number[]; byKind: Record<string, number>; secondsByKind: Record<string, number> };
  delayed: { count: number; totalS: number };
  leaseLosses: Record<string, number>;
  /** Items acquired more than once, and items whose replay ran to its result PUT on two or more nodes. */
  itemsReacquired: number;
  itemsReplayedTwice: number;
  /** Spawn to the first lease, spawn to 'node starting'; processes that ended before 'node starting'. */
  startup: { initialS: number[]; replacementS: number[]; toNodeStartingS: number[]; endedBeforeStarting: number };
  idleGapsMs: number[];
  requests: { total: number; probe: number; byKind: Record<string, number> };
  lastItems: string[];
}

const TAIL_ITEMS = 3;

export function breakdown(phase: PhaseRun): Breakdown {
  const { startedAt: t0, nodes, requests, results, config } = phase;
  const s = (at: number): number => (at - t0) / 1000;
  const keys = runKeys(phase.run);
  const intervals = phase.history.intervals();
  const byNode = groupBy(intervals, (i) => i.node);
  const firstResult = new Map<string, number>();
  for (const r of requests) {
    if (!isAcceptedWrite(r) || !r.key.startsWith(phase.keyPrefix + keys.resultsPrefix)) continue;
    const at = r.endMs ?? r.startMs;
    if ((firstResult.get(r.key) ?? Infinity) > at) firstResult.set(r.key, at);
  }
  const lastResultAt = Math.max(t0, ...firstResult.values());
  const leasesPrefix = phase.keyPrefix + keys.leasesPrefix;
  const lastLeaseWrite = Math.max(t0, ...requests.filter((r) => isAcceptedWrite(r) && r.key.startsWith(leasesPrefix)).map((r) => r.endMs ?? r.startMs));
  const firstHeld = new Map<string, number>();
  for (const i of intervals) if ((firstHeld.get(i.item) ?? Infinity) > i.startMs) firstHeld.set(i.item, i.startMs);
  const allClaimedAt = firstHeld.size === config.items ? Math.max(...firstHeld.values()) : lastResultAt;
  const winner = (i: LeaseInterval): boolean => results.get(i.item)?.node === i.node && results.get(i.item)?.epoch === i.epoch;

  const slots = { capacity: config.hosts * (lastResultAt - t0), useful: 0, wasted: 0, starting: 0, idleWithFreeWork: 0, idleStarved: 0 };
  const idle = (from: number, to: number): void => {
    slots.idleWithFreeWork += clip(from, Math.min(to, allClaimedAt), t0, lastResultAt);
    slots.idleStarved += clip(Math.max(from, allClaimedAt), to, t0, lastResultAt);
  };
  const idleGapsMs: number[] = [];
  const startup: Breakdown['startup'] = { initialS: [], replacementS: [], toNodeStartingS: [], endedBeforeStarting: 0 };
  for (const node of nodes) {
    const end = node.process.exitedAt ?? phase.endedAt;
    const own = (byNode.get(node.process.node) ?? []).sort((a, b) => a.startMs - b.startMs);
    // Starting: spawn to the 'node starting' line (module loading, the store probe, the manifest, gossip
    // set-up); from there to the first lease (records, listings, the claim) counts as idle.
    const starting = node.process.logs.findIndex((l) => l.msg === 'node starting');
    const startedAt = Math.min(starting >= 0 ? node.process.arrivals[starting]! : end, own[0]?.startMs ?? end);
    if (starting >= 0) startup.toNodeStartingS.push((node.process.arrivals[starting]! - node.spawnedAt) / 1000);
    else startup.endedBeforeStarting++;
    slots.starting += clip(node.spawnedAt, startedAt, t0, lastResultAt);
    let cursor = startedAt;
    own.forEach((i, k) => {
      const iEnd = i.endMs ?? end;
      idle(cursor, i.startMs);
      if (k > 0) idleGapsMs.push(i.startMs - cursor);
      slots[winner(i) ? 'useful' : 'wasted'] += clip(i.startMs, iEnd, t0, lastResultAt);
      cursor = Math.max(cursor, iEnd);
    });
    idle(cursor, end);
    if (own[0]) (node.generation === 0 ? startup.initialS : startup.replacementS).push((own[0].startMs - node.spawnedAt) / 1000);
  }
  for (const k of ['useful', 'wasted', 'starting', 'idleWithFreeWork', 'idleStarved', 'capacity'] as const) slots[k] /= 1000;

  return {
    wallS: s(phase.endedAt),
    lastResultS: s(lastResultAt),
    completeS: s(Math.max(lastResultAt, lastLeaseWrite)),
    allClaimedS: s(allClaimedAt),
    slots,
    takeovers: takeovers(phase, byNode),
    unavailable: unavailable(nodes, phase.endedAt),
    ...faultWaits(requests, phase.endedAt, (r) => kindOf(r, phase.keyPrefix)),
    leaseLosses: leaseLosses(phase),
    itemsReacquired: [...groupBy(intervals, (i) => i.item).values()].filter((l) => l.length > 1).length,
    itemsReplayedTwice: [...groupBy(requests.filter((r) => r.method === 'PUT' && r.key.startsWith(phase.keyPrefix + keys.resultsPrefix)), (r) => r.key).values()]
      .filter((rs) => new Set(rs.map((r) => r.client)).size > 1).length,
    startup,
    idleGapsMs,
    requests: requestKinds(requests, phase.keyPrefix),
    lastItems: [...firstResult].sort((a, b) => b[1] - a[1]).slice(0, TAIL_ITEMS).map(([key, at]) => {
      const item = key.slice(phase.keyPrefix.length + keys.resultsPrefix.length).replace(/\.json$/, '');
      const beliefs = intervals.filter((i) => i.item === item)
        .map((i) => `${i.node}@${i.epoch} ${s(i.startMs).toFixed(1)}-${s(i.endMs ?? phase.endedAt).toFixed(1)} s (${i.end === 'exit' ? 'process exit' : i.why ?? i.end})`);
      return `${item}: result at ${s(at).toFixed(1)} s; held by ${beliefs.join(', ') || 'nobody (per the logs)'}`;
    }),
  };
}

/** For every item a killed node held: how long until another node's write on its lease, and how much of that after the lease had expired. */
function takeovers(phase: PhaseRun, byNode: Map<string, LeaseInterval[]>): Breakdown['takeovers'] {
  const out: Breakdown['takeovers'] = { items: 0, notTaken: 0, finishedByVictim: 0, killToTakeoverS: [], expiredWaitS: [] };
  const keys = runKeys(phase.run);
  const leaseWrites = groupBy(phase.requests.filter(isAcceptedWrite), (r) => r.key);
  for (const kill of phase.kills) {
    for (const held of (byNode.get(kill.node) ?? []).filter((i) => i.end === 'exit' && i.startMs <= kill.at)) {
      out.items++;
      if (phase.results.get(held.item)?.node === kill.node) out.finishedByVictim++;
      const writes = leaseWrites.get(phase.keyPrefix + keys.lease(held.item)) ?? [];
      const last = Math.max(...writes.filter((r) => r.client === kill.node && r.startMs <= kill.at).map((r) => r.endMs ?? r.startMs));
      const next = writes.find((r) => r.client !== kill.node && r.startMs >= kill.at);
      if (!next) {
        out.notTaken++;
        continue;
      }
      const takenAt = next.endMs ?? next.startMs;
      out.killToTakeoverS.push((takenAt - kill.at) / 1000);
      if (Number.isFinite(last)) out.expiredWaitS.push((takenAt - (last + phase.config.ttlMs)) / 1000);
    }
  }
  return out;
}

/** Node-seconds between a node's 'store unavailable' line and its 'store available again' (or its exit). */
function unavailable(nodes: ChaosNode[], endedAt: number): Breakdown['unavailable'] {
  const out: Breakdown['unavailable'] = { episodes: 0, nodeSeconds: 0, longestS: 0, byWhat: {} };
  for (const node of nodes) {
    let since: number | undefined;
    const close = (at: number): void => {
      if (since === undefined) return;
      const seconds = (at - since) / 1000;
      out.nodeSeconds += seconds;
      out.longestS = Math.max(out.longestS, seconds);
      since = undefined;
    };
    node.process.logs.forEach((line, i) => {
      const at = node.process.arrivals[i]!;
      if (line.msg.startsWith('store unavailable')) {
        if (since === undefined) {
          since = at;
          out.episodes++;
          const what = String(line.what ?? '?');
          out.byWhat[what] = (out.byWhat[what] ?? 0) + 1;
        }
      } else if (line.msg === 'store available again') close(at);
    });
    close(node.process.exitedAt ?? endedAt);
  }
  return out;
}

function faultWaits(requests: RecordedRequest[], endedAt: number, kind: (r: RecordedRequest) => string): Pick<Breakdown, 'silent' | 'delayed'> {
  const silent: Breakdown['silent'] = { count: 0, waitedS: [], byKind: {}, secondsByKind: {} };
  const delayed = { count: 0, totalS: 0 };
  for (const r of requests) {
    if (r.fault === 'drop-silent') {
      silent.count++;
      const waited = ((r.endMs ?? endedAt) - r.startMs) / 1000;
      silent.waitedS.push(waited);
      const k = kind(r);
      silent.byKind[k] = (silent.byKind[k] ?? 0) + 1;
      silent.secondsByKind[k] = (silent.secondsByKind[k] ?? 0) + waited;
    } else if (r.fault === 'delay') {
      delayed.count++;
      delayed.totalS += ((r.endMs ?? endedAt) - r.startMs) / 1000;
    }
  }
  return { silent, delayed };
}

/** Lease beliefs that ended other than by the holder's own stop: by the keeper's reason, and SIGKILLs. */
function leaseLosses(phase: PhaseRun): Record<string, number> {
  const out: Record<string, number> = {};
  for (const i of phase.history.intervals()) {
    const why = i.end === 'exit' ? 'process exit' : i.end === 'open' ? 'still open' : i.why === 'stopped' ? undefined : `lost: ${i.why ?? '?'}`;
    if (why) out[why] = (out[why] ?? 0) + 1;
  }
  return out;
}

/** `PUT leases`, `GET results`, `LIST nodes`, `probe` (the capability probe's scratch keys). */
export function kindOf(r: RecordedRequest, prefix: string): string {
  if (r.key === '') return `LIST ${areaOf(r.prefix ?? '', prefix)}`;
  if (r.key.startsWith(`${prefix}_probe/`)) return 'probe';
  return `${r.method} ${areaOf(r.key, prefix)}`;
}

function areaOf(key: string, prefix: string): string {
  const parts = key.slice(prefix.length).split('/'); // runs/<run>/<area>/...
  return parts[0] === 'runs' ? (parts[2] ?? '') : (parts[0] ?? '');
}

function requestKinds(requests: RecordedRequest[], prefix: string): Breakdown['requests'] {
  const byKind: Record<string, number> = {};
  let probe = 0;
  for (const r of requests) {
    const k = kindOf(r, prefix);
    if (k === 'probe') probe++;
    byKind[k] = (byKind[k] ?? 0) + 1;
  }
  return { total: requests.length, probe, byKind };
}

function clip(from: number, to: number, lo: number, hi: number): number {
  return Math.max(0, Math.min(to, hi) - Math.max(from, lo));
}

function groupBy<T>(xs: T[], key: (x: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const x of xs) (out.get(key(x)) ?? out.set(key(x), []).get(key(x))!).push(x);
  return out;
}
