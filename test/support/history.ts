import { itemIdFromKey, runKeys } from '../../src/layout/keys.js';
import { decodeLease, type LeaseState } from '../../src/records/lease-record.js';
import { manifestItems } from '../../src/manifest/items.js';
import { readManifest } from '../../src/manifest/read-manifest.js';
import { decodeFailure, type FailureRecord } from '../../src/records/failure-record.js';
import { decodeResult } from '../../src/records/result-record.js';
import { getIfExists } from '../../src/store/get-if-exists.js';
import { listAll, type Store } from '../../src/store/store.js';
import type { LogLine, NodeProcess } from '../node/support/node-process.js';
import { isAcceptedWrite, type RecordedRequest } from './fault-proxy.js';

/**
 * A Jepsen-style history checker for cluster tests and benchmarks: what the
 * nodes believed (their logs, stamped on the harness's clock), what the
 * store holds at the end, and what the fault proxy saw, checked against the
 * guarantees of design §3.
 *
 *   const history = new LogHistory();
 *   for (const node of cluster.nodes) history.attach(node);
 *   ...the run...
 *   const report = await checkHistory({ store, run, history, requests: proxy.requests() });
 *   expect(report.overlaps).toEqual([]);            // one holder at a time
 *   expect(report.overwrites).toEqual([]);          // never a second accepted result PUT
 *   console.log(formatHistoryReport(report));       // a benchmark prints the same report
 *
 * Lease beliefs come from this log contract of `replay-node`:
 *   { lease: 'held', item, epoch, node }            the node believes it holds item at epoch;
 *   { lease: 'ended', item, epoch, node, why }      it no longer does;
 *   the process exiting ends all its beliefs.
 * Times are performance.now() at a line's arrival, which is later than the
 * node wrote it by the pipe's latency (both ends of an interval alike); a
 * line cannot have been written after its process exited, so times of lines
 * that arrive after the exit are clamped to the exit time.
 *
 * Store-side checks (`checkHistory`): every manifest item has its result
 * (`missingResults`; `lost` are those whose lease is not `failed` either),
 * no result key took two accepted PUTs (from the proxy's record), every
 * lease is final (`done` or `failed`), every failure record parses, names a
 * node and a reason, and a `lease-expired` one is explained by the history:
 * the named node's belief in that epoch ended (it lost the lease or exited),
 * or it never believed it but died abnormally, or the proxy shows its lease
 * write landing unanswered. Client ids in the proxy's record are taken to
 * be node ids (NodeProcess sets AWS_SDK_UA_APP_ID to the node id).
 */
export interface StampedLine {
  /** The process (node) the line came from. */
  source: string;
  at: number;
  line: LogLine;
}

export interface ProcessExit {
  at: number;
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface LeaseInterval {
  item: string;
  epoch: number;
  node: string;
  startMs: number;
  /** Undefined while the belief lasts. */
  endMs?: number;
  end: 'ended' | 'exit' | 'open';
  /** The `why` of the ended line. */
  why?: string;
}

export interface LeaseOverlap {
  item: string;
  a: LeaseInterval;
  b: LeaseInterval;
  /** How long both beliefs lasted at once (open intervals count until now). */
  overlapMs: number;
}

/** The process side a history needs from NodeProcess (test/node/support/node-process.ts). */
export type HistorySource = Pick<NodeProcess, 'node' | 'logs' | 'arrivals' | 'exitedAt' | 'exited' | 'onLine'>;

export class LogHistory {
  private readonly stamped: StampedLine[] = [];
  private readonly exitsBy = new Map<string, ProcessExit>();

  /** `now`: the harness clock, performance.now() unless a test gives another. */
  constructor(private readonly now: () => number = () => performance.now()) {}

  /** Takes a node process's lines so far (with their arrival times) and every later one, and its exit. */
  attach(process: HistorySource): void {
    process.logs.forEach((line, i) => this.record(process.node, line, process.arrivals[i] ?? this.now()));
    process.onLine((line, at) => this.record(process.node, line, at));
    void process.exited.then(({ code, signal }) => this.exit(process.node, { at: process.exitedAt ?? this.now(), code, signal }));
  }

  record(source: string, line: LogLine, at = this.now()): void {
    this.stamped.push({ source, at, line });
  }

  exit(source: string, how: Partial<ProcessExit> = {}): void {
    if (this.exitsBy.has(source)) return;
    this.exitsBy.set(source, { at: how.at ?? this.now(), code: how.code ?? null, signal: how.signal ?? null });
  }

  lines(): readonly StampedLine[] {
    return [...this.stamped];
  }

  exits(): ReadonlyMap<string, ProcessExit> {
    return new Map(this.exitsBy);
  }

  /** Every lease belief, in start order; optionally of one item. */
  intervals(item?: string): LeaseInterval[] {
    const open = new Map<string, LeaseInterval & { source: string }>();
    const all: Array<LeaseInterval & { source: string }> = [];
    const lines = this.stamped
      .map((s) => ({ ...s, at: Math.min(s.at, this.exitsBy.get(s.source)?.at ?? Infinity) }))
      .sort((x, y) => x.at - y.at);
    for (const { source, at, line } of lines) {
      const belief = leaseLine(line);
      if (!belief || (item !== undefined && belief.item !== item)) continue;
      const node = belief.node ?? source;
      const id = `${node}\0${belief.item}\0${belief.epoch}`;
      const current = open.get(id);
      if (belief.kind === 'held' && !current) {
        const interval = { item: belief.item, epoch: belief.epoch, node, startMs: at, end: 'open' as const, source };
        open.set(id, interval);
        all.push(interval);
      } else if (belief.kind === 'ended' && current) {
        Object.assign(current, { endMs: at, end: 'ended', ...(belief.why !== undefined ? { why: belief.why } : {}) });
        open.delete(id);
      }
    }
    for (const interval of open.values()) {
      const exit = this.exitsBy.get(interval.source);
      if (exit) Object.assign(interval, { endMs: Math.max(exit.at, interval.startMs), end: 'exit' });
    }
    return all.map(({ source: _source, ...interval }) => interval);
  }

  /** `ended` lines with no belief to end (a broken log contract, or lines lost). */
  unmatchedEnds(): StampedLine[] {
    const held = new Set(this.stamped.flatMap((s) => {
      const b = leaseLine(s.line);
      return b?.kind === 'held' ? [`${b.node ?? s.source}\0${b.item}\0${b.epoch}`] : [];
    }));
    return this.stamped.filter((s) => {
      const b = leaseLine(s.line);
      return b?.kind === 'ended' && !held.has(`${b.node ?? s.source}\0${b.item}\0${b.epoch}`);
    });
  }

  /** Every pair of beliefs in the same item, by different nodes or epochs, that lasted at once for more than `minMs`. */
  overlaps(options: { minMs?: number } = {}): LeaseOverlap[] {
    const minMs = options.minMs ?? 0;
    const now = this.now();
    const byItem = new Map<string, LeaseInterval[]>();
    for (const interval of this.intervals()) (byItem.get(interval.item) ?? byItem.set(interval.item, []).get(interval.item)!).push(interval);
    const found: LeaseOverlap[] = [];
    for (const [item, intervals] of byItem) {
      for (let i = 0; i < intervals.length; i++) {
        for (let j = i + 1; j < intervals.length; j++) {
          const a = intervals[i]!;
          const b = intervals[j]!;
          if (a.node === b.node && a.epoch === b.epoch) continue;
          const overlapMs = Math.min(a.endMs ?? now, b.endMs ?? now) - Math.max(a.startMs, b.startMs);
          if (overlapMs > minMs) found.push({ item, a, b, overlapMs });
        }
      }
    }
    return found;
  }
}

function leaseLine(line: LogLine): { kind: 'held' | 'ended'; item: string; epoch: number; node?: string; why?: string } | undefined {
  const l = line as Record<string, unknown>;
  if ((l.lease !== 'held' && l.lease !== 'ended') || typeof l.item !== 'string' || typeof l.epoch !== 'number') return undefined;
  return {
    kind: l.lease,
    item: l.item,
    epoch: l.epoch,
    ...(typeof l.node === 'string' ? { node: l.node } : {}),
    ...(typeof l.why === 'string' ? { why: l.why } : {}),
  };
}

export interface HistoryCheckInput {
  store: Store;
  run: string;
  history?: LogHistory;
  /** The fault proxy's record (`proxy.requests()`). */
  requests?: readonly RecordedRequest[];
  /** The store URL's prefix ('' or ending in '/'): proxy keys are this plus store keys. */
  keyPrefix?: string;
  /** Overlaps up to this long are not reported (arrival jitter of log lines); default 0. */
  overlapToleranceMs?: number;
}

export interface UnexplainedFailure {
  key: string;
  item?: string;
  node?: string;
  reason?: string;
  why: string;
}

export interface HistoryReport {
  run: string;
  /** Work items in the manifest. */
  items: number;
  /** Items with a sound result. */
  results: number;
  missingResults: string[];
  /** Items whose lease says `failed` (out of attempts). */
  failedItems: string[];
  /** Items with neither a result nor a `failed` lease. */
  lost: string[];
  /** Result keys that took more than one accepted PUT. */
  overwrites: Array<{ item: string; key: string; writes: number; clients: string[] }>;
  overlaps: LeaseOverlap[];
  unfinishedLeases: Array<{ item: string; state: LeaseState | 'missing' | 'corrupt' }>;
  failuresByReason: Record<string, number>;
  unexplainedFailures: UnexplainedFailure[];
  /** Corrupt or foreign results, failed items without a failure record, ended lines without a belief. */
  problems: string[];
  /** None of the above went wrong (missing results of failed items aside). */
  ok: boolean;
}

export async function checkHistory(input: HistoryCheckInput): Promise<HistoryReport> {
  const { store, run, history } = input;
  const keys = runKeys(run);
  const items = manifestItems((await readManifest(store, run)).manifest).map((i) => i.id);
  const known = new Set(items);
  const problems: string[] = [];

  const withResult = new Set<string>();
  for await (const info of listAll(store, keys.resultsPrefix)) {
    const item = itemIdFromKey(info.key, keys.resultsPrefix);
    if (item === undefined || info.key !== keys.result(item)) {
      problems.push(`foreign object under results/: ${info.key}`);
      continue;
    }
    const got = await getIfExists(store, info.key);
    if (!got) continue;
    try {
      const result = decodeResult(info.key, got.body);
      if (result.item !== item) problems.push(`${info.key} is the result of ${result.item}`);
      else if (!known.has(item)) problems.push(`result for an item not in the manifest: ${item}`);
      else withResult.add(item);
    } catch (error) {
      problems.push((error as Error).message);
    }
  }

  const unfinishedLeases: HistoryReport['unfinishedLeases'] = [];
  const failedItems: string[] = [];
  for (const item of items) {
    const got = await getIfExists(store, keys.lease(item));
    let state: LeaseState | 'missing' | 'corrupt' = 'missing';
    if (got) {
      try {
        state = decodeLease(keys.lease(item), got.body).state;
      } catch {
        state = 'corrupt';
      }
    }
    if (state === 'failed') failedItems.push(item);
    else if (state !== 'done') unfinishedLeases.push({ item, state });
  }

  const prefix = input.keyPrefix ?? '';
  const accepted = (input.requests ?? []).filter(isAcceptedWrite);
  const overwrites: HistoryReport['overwrites'] = [];
  for (const item of items) {
    const writes = accepted.filter((r) => r.key === prefix + keys.result(item));
    if (writes.length > 1) overwrites.push({ item, key: keys.result(item), writes: writes.length, clients: writes.map((w) => w.client) });
  }

  const failuresByReason: Record<string, number> = {};
  const unexplainedFailures: UnexplainedFailure[] = [];
  const failuresOf = new Map<string, number>();
  const intervals = history?.intervals() ?? [];
  for await (const info of listAll(store, keys.failuresPrefix)) {
    const item = itemIdFromKey(info.key, keys.failuresPrefix);
    const got = await getIfExists(store, info.key);
    if (!got) continue;
    let record: FailureRecord;
    try {
      record = decodeFailure(info.key, got.body);
    } catch (error) {
      unexplainedFailures.push({ key: info.key, ...(item ? { item } : {}), why: (error as Error).message });
      continue;
    }
    failuresByReason[record.reason] = (failuresByReason[record.reason] ?? 0) + 1;
    failuresOf.set(record.item, (failuresOf.get(record.item) ?? 0) + 1);
    const unexplained = (why: string): void => void unexplainedFailures.push({ key: info.key, item: record.item, node: record.node, reason: record.reason, why });
    if (item === undefined || item !== record.item) unexplained(`stored under ${item ?? 'a foreign key'} but names item ${record.item}`);
    else if (typeof record.node !== 'string' || record.node === '') unexplained('names no node');
    else if (record.reason.trim() === '') unexplained('gives no reason');
    else if (record.reason === 'lease-expired' && history) {
      const why = unexplainedExpiry(record, intervals, history, input.requests ?? [], prefix + keys.lease(record.item));
      if (why) unexplained(why);
    }
  }
  for (const item of failedItems) if (!failuresOf.has(item)) problems.push(`${item} is marked failed but has no failure record`);
  for (const s of history?.unmatchedEnds() ?? []) problems.push(`${s.source}: lease ended without being held: ${JSON.stringify(s.line).slice(0, 200)}`);

  const missingResults = items.filter((i) => !withResult.has(i));
  const failed = new Set(failedItems);
  const lost = missingResults.filter((i) => !failed.has(i));
  const overlaps = history?.overlaps({ minMs: input.overlapToleranceMs ?? 0 }) ?? [];
  const ok = lost.length + overwrites.length + overlaps.length + unfinishedLeases.length + unexplainedFailures.length + problems.length === 0;
  return {
    run, items: items.length, results: withResult.size, missingResults, failedItems, lost, overwrites, overlaps,
    unfinishedLeases, failuresByReason, unexplainedFailures, problems, ok,
  };
}

/** Why a `lease-expired` failure is not explained by the history, or undefined when it is. */
function unexplainedExpiry(record: FailureRecord, intervals: LeaseInterval[], history: LogHistory, requests: readonly RecordedRequest[], leaseKey: string): string | undefined {
  const beliefs = intervals.filter((i) => i.node === record.node && i.item === record.item && i.epoch === record.epoch);
  if (beliefs.length > 0) {
    return beliefs.every((b) => b.end !== 'open') ? undefined : `${record.node} still believes it holds ${record.item} at epoch ${record.epoch}`;
  }
  const exit = history.exits().get(record.node);
  if (exit && (exit.signal !== null || exit.code !== 0)) return undefined;
  if (requests.some((r) => r.client === record.node && r.key === leaseKey && isAcceptedWrite(r) && !r.delivered)) return undefined;
  return `${record.node} never believed it held ${record.item} at epoch ${record.epoch}, did not die, and no lease write of its landed unanswered`;
}

/** The report on one screen: the counts, then the first few of each problem. */
export function formatHistoryReport(r: HistoryReport, detailLines = 5): string {
  const reasons = Object.entries(r.failuresByReason).map(([k, v]) => `${k} ${v}`).join(', ') || 'none';
  const out = [
    `history of run ${r.run}: ${r.ok ? 'OK' : 'PROBLEMS'}`,
    `  items ${r.items}   results ${r.results}   failed ${r.failedItems.length}   lost ${r.lost.length}   unfinished leases ${r.unfinishedLeases.length}`,
    `  result overwrites ${r.overwrites.length}   lease overlaps ${r.overlaps.length}   unexplained failures ${r.unexplainedFailures.length}   other problems ${r.problems.length}`,
    `  failures by reason: ${reasons}`,
  ];
  const section = (title: string, lines: string[]): void => {
    if (lines.length === 0) return;
    out.push(`  ${title}:`, ...lines.slice(0, detailLines).map((l) => `    ${l}`));
    if (lines.length > detailLines) out.push(`    ... and ${lines.length - detailLines} more`);
  };
  section('lost', r.lost);
  section('unfinished leases', r.unfinishedLeases.map((u) => `${u.item}: ${u.state}`));
  section('overwrites', r.overwrites.map((o) => `${o.key}: ${o.writes} accepted PUTs (${o.clients.join(', ')})`));
  section('overlaps', r.overlaps.map((o) => `${o.item}: ${o.a.node}@${o.a.epoch} and ${o.b.node}@${o.b.epoch} for ${o.overlapMs.toFixed(0)} ms`));
  section('unexplained failures', r.unexplainedFailures.map((u) => `${u.key}: ${u.why}`));
  section('problems', r.problems);
  return out.join('\n');
}
