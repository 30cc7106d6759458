/** The detail lists of a RunStatus (failed items, conflicts, recent failures) and the manifest summary. */
import type { ConflictRecord, Outcome } from '../records/conflict-record.js';
import type { FailureRecord } from '../records/failure-record.js';
import type { ItemVerdict } from './item-states.js';
import type { RunState } from './run-state.js';
import type { ConflictItem, FailedItem, FailureSummary, ManifestSummary, OutcomeSummary } from './run-status.js';

const RECENT_FAILURES = 20;

/** Failure records per item, oldest first (their keys end in a ULID, which sorts by time). */
export function failuresByItem(state: RunState): Map<string, FailureRecord[]> {
  const byItem = new Map<string, Array<{ key: string; record: FailureRecord }>>();
  for (const entry of state.failures.values()) {
    if (!entry.value) continue;
    const list = byItem.get(entry.value.item) ?? [];
    list.push({ key: entry.key, record: entry.value });
    byItem.set(entry.value.item, list);
  }
  return new Map([...byItem].map(([item, list]) => [item, list.sort((a, b) => (a.key < b.key ? -1 : 1)).map((f) => f.record)]));
}

export function failedItem(item: string, verdict: ItemVerdict, failures: readonly FailureRecord[]): FailedItem {
  const lease = verdict.lease?.value;
  const last = failures.at(-1);
  return {
    item,
    attempts: lease?.attempts ?? failures.length,
    failedBy: lease?.failedBy ?? [],
    reason: last?.reason ?? lease?.reason ?? null,
    message: last?.message ?? null,
    node: last?.node ?? lease?.holder ?? null,
    at: last?.at ?? lease?.releasedAt ?? null,
    failureRecords: failures.length,
  };
}

export function outcomeSummary(outcome: Outcome): OutcomeSummary {
  return { node: outcome.node, epoch: outcome.epoch, endHash: outcome.endHash, startHash: outcome.startHash ?? null };
}

export function conflictItem(item: string, records: readonly ConflictRecord[]): ConflictItem {
  return {
    item,
    canonical: outcomeSummary(records[0]!.canonical),
    found: records.map((r) => ({ ...outcomeSummary(r.found), detectedAt: String(r.detectedAt ?? '') })),
  };
}

/** The newest failed attempts of any item, newest first. */
export function recentFailures(state: RunState): FailureSummary[] {
  const entries = [...state.failures.values()].filter((e) => e.value !== undefined);
  const ulidOf = (key: string) => key.slice(key.lastIndexOf('/') + 1);
  entries.sort((a, b) => (ulidOf(a.key) < ulidOf(b.key) ? 1 : -1));
  return entries.slice(0, RECENT_FAILURES).map(({ key, value: f }) => ({
    item: f!.item, node: f!.node, attempt: f!.attempt, reason: f!.reason, message: String(f!.message ?? ''), final: Boolean(f!.final), at: String(f!.at ?? ''), key,
  }));
}

export function manifestSummary(state: RunState): ManifestSummary | null {
  const m = state.manifest;
  if (!m) return null;
  return {
    createdAt: m.createdAt,
    intervals: m.intervals.length,
    items: state.items.length,
    replicas: m.replicas,
    firstBlock: m.intervals[0]!.start,
    lastBlock: m.intervals.at(-1)!.end,
    leaseTtlMs: m.defaults.leaseTtlMs,
    maxAttempts: m.defaults.maxAttempts,
    nodeosVersion: m.nodeos?.version ?? null,
  };
}

/** 0-100 with one decimal; never rounds up to 100 before everything is done. */
export function percent(part: number, whole: number): number {
  if (whole <= 0) return 0;
  const value = Math.floor((part / whole) * 1000) / 10;
  return value;
}
