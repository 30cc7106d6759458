import type { WorkItem } from './runner.js';
import { RunnerConfigError } from './runner-config-error.js';

/**
 * Fault injection for the `sim` runner. A spec is plain JSON so the node CLI
 * can pass it through (`--sim-faults` or env REPLAY_SIM_FAULTS), e.g.
 *
 *   {"crashAt": {"item": "0000000000-0000000100", "block": 50, "times": 1}}
 *   {"wrongHash": {"item": "0000000000-0000000100.r2"}}
 *   {"hang": [{"item": "0000000100-0000000200", "node": "n2"}]}
 *   {"slow": {"blocksPerSecond": 10}}
 *
 * Items are retried on other nodes, so every rule is scoped: by item, replica,
 * node id, attempt number, and a `times` budget per runner instance.
 */
export interface SimFaultScope {
  /** Item id; without a `.r<k>` suffix it matches every replica of that interval. Absent: every item. */
  item?: string;
  /** Only this replica (1-based). */
  replica?: number;
  /** Only on this node id. */
  node?: string;
  /** Only on this attempt (WorkItem.attempt, 1-based); ignored when the caller does not number attempts. */
  attempt?: number;
  /** Fires on at most this many attempts of this runner instance (one node process). Absent: every time. */
  times?: number;
}

export interface CrashFault extends SimFaultScope {
  /** Head block at which the simulated process dies; clamped into [start, end]. Default: the middle. */
  block?: number;
  /** Reported exit code (default 1) or signal (e.g. "SIGSEGV"). */
  exitCode?: number;
  signal?: string;
}

export interface HangFault extends SimFaultScope {
  /** Head block at which progress stops until the attempt is aborted. Default: the start block. */
  block?: number;
}

export interface SlowFault extends SimFaultScope {
  blocksPerSecond: number;
}

type OneOrMany<T> = T | T[];

export interface SimFaultSpec {
  crashAt?: OneOrMany<CrashFault>;
  hang?: OneOrMany<HangFault>;
  wrongHash?: OneOrMany<SimFaultScope>;
  slow?: OneOrMany<SlowFault>;
}

/** What one attempt will suffer. */
export interface ActiveFaults {
  crash?: { block: number; exitCode: number | null; signal: string | null };
  hangAt?: number;
  wrongHash: boolean;
  blocksPerSecond?: number;
}

const KINDS = ['crashAt', 'hang', 'wrongHash', 'slow'] as const;
type Kind = (typeof KINDS)[number];
const SCOPE_KEYS = ['item', 'replica', 'node', 'attempt', 'times'];
const EXTRA_KEYS: Record<Kind, string[]> = {
  crashAt: ['block', 'exitCode', 'signal'],
  hang: ['block'],
  wrongHash: [],
  slow: ['blocksPerSecond'],
};

/** Parses and validates a spec given as JSON text or as an object. */
export function parseSimFaults(input: string | SimFaultSpec | undefined, source = 'sim fault spec'): SimFaultSpec {
  if (input === undefined || input === '') return {};
  let value: unknown = input;
  if (typeof input === 'string') {
    try {
      value = JSON.parse(input);
    } catch {
      throw new RunnerConfigError(`${source} is not valid JSON; give e.g. {"crashAt":{"item":"0000000000-0000000100","block":50}}`);
    }
  }
  if (!isObject(value)) throw new RunnerConfigError(`${source} must be a JSON object with keys ${KINDS.join(', ')}`);
  for (const [key, rules] of Object.entries(value)) {
    if (!(KINDS as readonly string[]).includes(key)) {
      throw new RunnerConfigError(`${source}: unknown fault "${key}"; use one of ${KINDS.join(', ')}`);
    }
    for (const rule of Array.isArray(rules) ? rules : [rules]) checkRule(key as Kind, rule, source);
  }
  return value as SimFaultSpec;
}

function checkRule(kind: Kind, rule: unknown, source: string): void {
  if (!isObject(rule)) throw new RunnerConfigError(`${source}: ${kind} must be an object or an array of objects`);
  const allowed = [...SCOPE_KEYS, ...EXTRA_KEYS[kind]];
  for (const [key, v] of Object.entries(rule)) {
    if (!allowed.includes(key)) throw new RunnerConfigError(`${source}: ${kind} has unknown field "${key}"; allowed: ${allowed.join(', ')}`);
    const wantsString = key === 'item' || key === 'node' || key === 'signal';
    if (wantsString ? typeof v !== 'string' : typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
      throw new RunnerConfigError(`${source}: ${kind}.${key} must be ${wantsString ? 'a string' : 'a non-negative number'}`);
    }
  }
  if (kind === 'slow' && typeof rule.blocksPerSecond !== 'number') {
    throw new RunnerConfigError(`${source}: slow needs "blocksPerSecond"`);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function rulesOf<T>(rules: OneOrMany<T> | undefined): T[] {
  if (rules === undefined) return [];
  return Array.isArray(rules) ? rules : [rules];
}

/** A parsed spec plus the per-rule `times` budgets of one runner instance. */
export class SimFaultPlan {
  private readonly used = new Map<object, number>();

  constructor(private readonly spec: SimFaultSpec = {}) {}

  /** Decides the faults of one attempt and spends the matching rules' budgets. */
  forAttempt(item: WorkItem, nodeId: string | undefined): ActiveFaults {
    const crash = this.take(this.spec.crashAt, item, nodeId);
    const hang = this.take(this.spec.hang, item, nodeId);
    const wrong = this.take(this.spec.wrongHash, item, nodeId);
    const slow = this.take(this.spec.slow, item, nodeId);
    const clamp = (block: number): number => Math.min(item.end, Math.max(item.start, block));
    return {
      crash: crash && {
        block: clamp(crash.block ?? Math.floor((item.start + item.end) / 2)),
        exitCode: crash.signal ? null : (crash.exitCode ?? 1),
        signal: crash.signal ?? null,
      },
      hangAt: hang && clamp(hang.block ?? item.start),
      wrongHash: wrong !== undefined,
      blocksPerSecond: slow?.blocksPerSecond,
    };
  }

  private take<T extends SimFaultScope>(rules: OneOrMany<T> | undefined, item: WorkItem, nodeId: string | undefined): T | undefined {
    for (const rule of rulesOf(rules)) {
      if (!matches(rule, item, nodeId)) continue;
      const used = this.used.get(rule) ?? 0;
      if (rule.times !== undefined && used >= rule.times) continue;
      this.used.set(rule, used + 1);
      return rule;
    }
    return undefined;
  }
}

function matches(rule: SimFaultScope, item: WorkItem, nodeId: string | undefined): boolean {
  if (rule.item !== undefined && rule.item !== item.itemId && rule.item !== item.itemId.replace(/\.r\d+$/, '')) return false;
  if (rule.replica !== undefined && rule.replica !== (item.replica ?? 1)) return false;
  if (rule.node !== undefined && rule.node !== nodeId) return false;
  if (rule.attempt !== undefined && item.attempt !== undefined && rule.attempt !== item.attempt) return false;
  return true;
}
