import type { Clock } from '../../time/clock.js';
import type { RunnerPhase, RunnerProgress } from '../runner.js';
import { getInfo, type ChainInfo } from './http.js';
import type { NodeosLogReader } from './log-reader.js';

/**
 * The watchdog of one replay, phase by phase (docs/runners.md "Phases"):
 *
 * - `loading`: the snapshot is read into chainbase and the start hash is
 *   computed; nodeos is silent and its HTTP port is closed for minutes to an
 *   hour on mainnet. Judged by the process staying alive and a generous
 *   bound on silence (`loadTimeoutMs`).
 * - `replaying`: judged by the head block moving (get_info, or the log's
 *   `Received block` / block-log replay lines) within `stallTimeoutMs`.
 * - `hashing`: entered when nodeos says it reached the end block. It has
 *   closed its HTTP port already (appbase shuts the plugins down before the
 *   controller computes the stop hash, ~6 min on mainnet), so it is judged
 *   like loading, with `stopHashTimeoutMs`.
 *
 * Every get_info answer is also checked against the manifest's chain id.
 * `watch()` resolves with a verdict only when the attempt must be failed;
 * the replay's other endings (exit, abort) stop it through its signal.
 */
export interface PhaseWatchOptions {
  baseUrl: string;
  start: number;
  end: number;
  /** The manifest's chain id; get_info must report the same. */
  chainId?: string;
  intervalMs: number;
  stallTimeoutMs: number;
  loadTimeoutMs: number;
  stopHashTimeoutMs: number;
  clock: Clock;
  log: NodeosLogReader;
  onProgress(progress: RunnerProgress): void;
}

export interface WatchVerdict {
  reason: 'stalled' | 'load-timeout' | 'hash-timeout' | 'chain-id-mismatch';
  message: string;
}

const SPEED_WINDOW_MS = 60_000;
/** Until nodeos first answers, poll at least this often: a short replay must still be seen (and its chain id checked). */
const FIRST_ANSWER_POLL_MS = 1_000;

export class PhaseWatch {
  phase: RunnerPhase = 'loading';
  /** The latest get_info answer, if any. */
  lastInfo: ChainInfo | undefined;
  /** Monotonic time nodeos was first seen replaying (start hash, answer or head progress). */
  replayingAt: number | undefined;
  /** Monotonic time nodeos was first seen at END (it then computes the stop hash). */
  hashingAt: number | undefined;
  private readonly samples: { at: number; head: number }[] = [];
  private phaseAt: number;
  private lastOutputAt: number;
  private linesSeen = 0;
  private head: number;
  private headAt: number;

  constructor(private readonly options: PhaseWatchOptions) {
    const now = options.clock.monotonic();
    this.phaseAt = now;
    this.lastOutputAt = now;
    this.head = options.start;
    this.headAt = now;
  }

  /** Resolves with a verdict, or rejects with the signal's reason when the replay ended otherwise. */
  async watch(signal: AbortSignal): Promise<WatchVerdict> {
    const { clock, intervalMs } = this.options;
    this.report(clock.monotonic());
    for (;;) {
      await clock.sleep(this.lastInfo ? intervalMs : Math.min(intervalMs, FIRST_ANSWER_POLL_MS), signal);
      // HTTP is closed once nodeos hashes: asking only fills the log with refused connections.
      const info = this.phase === 'hashing' ? undefined : await this.poll(signal);
      const verdict = this.observe(clock.monotonic(), info);
      if (verdict) return verdict;
    }
  }

  /** One step of the watchdog on what was seen since the last: the log (read through `log`) and an answer. */
  observe(now: number, info: ChainInfo | undefined): WatchVerdict | undefined {
    const { log, end } = this.options;
    if (log.lines !== this.linesSeen) {
      this.linesSeen = log.lines;
      this.lastOutputAt = now;
    }
    if (info) {
      const mismatch = this.chainIdMismatch(info);
      if (mismatch) return mismatch;
    }
    const head = Math.max(info?.head_block_num ?? -1, log.headBlock ?? -1);
    if (head > this.head) {
      this.head = head;
      this.headAt = now;
    }
    if (this.phase === 'loading' && (info || log.startHash !== undefined || this.head > this.options.start)) this.enter('replaying', now);
    if (this.phase === 'replaying' && (log.endReachedAt !== undefined || this.head >= end)) this.enter('hashing', now);
    this.report(now);
    return this.verdict(now);
  }

  /** One get_info now; undefined when nodeos does not answer. */
  async poll(signal?: AbortSignal): Promise<ChainInfo | undefined> {
    try {
      const info = await getInfo({ clock: this.options.clock }, this.options.baseUrl, Math.max(this.options.intervalMs, 5_000), signal);
      if (typeof info.head_block_num !== 'number') return undefined;
      this.lastInfo = info;
      return info;
    } catch {
      if (signal?.aborted) throw signal.reason;
      return undefined;
    }
  }

  private enter(phase: RunnerPhase, now: number): void {
    if (phase === 'replaying') this.replayingAt ??= now;
    if (phase === 'hashing') this.hashingAt ??= now;
    this.phase = phase;
    this.phaseAt = now;
    this.headAt = Math.max(this.headAt, now);
  }

  private verdict(now: number): WatchVerdict | undefined {
    const { stallTimeoutMs, loadTimeoutMs, stopHashTimeoutMs } = this.options;
    const silentMs = now - Math.max(this.phaseAt, this.lastOutputAt);
    if (this.phase === 'loading' && silentMs >= loadTimeoutMs) {
      return { reason: 'load-timeout', message: `nodeos was loading the snapshot, silent, for ${minutes(silentMs)} (load timeout ${minutes(loadTimeoutMs)})` };
    }
    if (this.phase === 'hashing' && silentMs >= stopHashTimeoutMs) {
      return { reason: 'hash-timeout', message: `nodeos reached block ${this.options.end} but had not logged its stop hash after ${minutes(silentMs)} (stop-hash timeout ${minutes(stopHashTimeoutMs)})` };
    }
    const stillMs = now - this.headAt;
    if (this.phase === 'replaying' && stillMs >= stallTimeoutMs) {
      return { reason: 'stalled', message: `nodeos made no progress at block ${this.head} for ${minutes(stillMs)}` };
    }
    return undefined;
  }

  private chainIdMismatch(info: ChainInfo): WatchVerdict | undefined {
    const expected = this.options.chainId;
    if (!expected || typeof info.chain_id !== 'string') return undefined;
    if (info.chain_id.toLowerCase() === expected.toLowerCase()) return undefined;
    return {
      reason: 'chain-id-mismatch',
      message: `nodeos reports chain id ${info.chain_id}, the manifest says ${expected}: the snapshot (or genesis) is of another chain, or the manifest's chainId is wrong`,
    };
  }

  private report(now: number): void {
    const { end, onProgress } = this.options;
    if (this.phase !== 'replaying') {
      onProgress({ phase: this.phase, headBlock: this.head });
      return;
    }
    this.samples.push({ at: now, head: this.head });
    while (this.samples.length > 2 && now - this.samples[0]!.at > SPEED_WINDOW_MS) this.samples.shift();
    const oldest = this.samples[0]!;
    const seconds = (now - oldest.at) / 1000;
    const blocksPerSecond = seconds > 0 ? (this.head - oldest.head) / seconds : undefined;
    onProgress({
      phase: 'replaying',
      headBlock: this.head,
      blocksPerSecond,
      etaSeconds: blocksPerSecond && blocksPerSecond > 0 ? Math.max(0, end - this.head) / blocksPerSecond : undefined,
    });
  }
}

function minutes(ms: number): string {
  return ms < 120_000 ? `${Math.round(ms / 1000)} s` : `${Math.round(ms / 60_000)} min`;
}
