import type { Clock } from '../../time/clock.js';
import type { RunnerProgress } from '../runner.js';
import { getInfo, type ChainInfo } from './http.js';

/**
 * Polls `/v1/chain/get_info` every few seconds while nodeos replays: head
 * block, speed over the last minute, ETA, reported through the runner's
 * progress callback. It is also the stall watchdog: no head progress (or no
 * answer at all) for `stallTimeoutMs` ends `watch()` with a stall verdict,
 * and the runner kills nodeos. Once the head reaches the end block the
 * watchdog is disarmed, because nodeos then computes the stop hash (minutes
 * on mainnet) without moving.
 */
export interface ProgressMonitorOptions {
  baseUrl: string;
  start: number;
  end: number;
  intervalMs: number;
  stallTimeoutMs: number;
  clock: Clock;
  onProgress(progress: RunnerProgress): void;
}

export interface Stall {
  headBlock: number | undefined;
  silentMs: number;
}

const SPEED_WINDOW_MS = 60_000;

export class ProgressMonitor {
  /** The latest answer, if any (its head block id serves as the result's when it is the end block). */
  lastInfo: ChainInfo | undefined;
  /** Monotonic time of the first answer: nodeos is up. */
  firstAnswerAt: number | undefined;
  private readonly samples: { at: number; head: number }[] = [];

  constructor(private readonly options: ProgressMonitorOptions) {}

  /** Resolves with a stall, or rejects with the signal's reason when the replay ends otherwise. */
  async watch(signal: AbortSignal): Promise<Stall> {
    const { clock, intervalMs, stallTimeoutMs, end } = this.options;
    let lastHead: number | undefined;
    let lastChange = clock.monotonic();
    for (;;) {
      await clock.sleep(intervalMs, signal);
      const info = await this.poll(signal);
      const now = clock.monotonic();
      if (info) {
        this.firstAnswerAt ??= now;
        if (info.head_block_num !== lastHead) {
          lastHead = info.head_block_num;
          lastChange = now;
        }
        this.report(now, info.head_block_num);
      }
      if (lastHead !== undefined && lastHead >= end) continue;
      if (now - lastChange >= stallTimeoutMs) return { headBlock: lastHead, silentMs: now - lastChange };
    }
  }

  /** One get_info now (also used right after exit to learn the final head). */
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

  private report(now: number, head: number): void {
    this.samples.push({ at: now, head });
    while (this.samples.length > 2 && now - this.samples[0]!.at > SPEED_WINDOW_MS) this.samples.shift();
    const oldest = this.samples[0]!;
    const seconds = (now - oldest.at) / 1000;
    const blocksPerSecond = seconds > 0 ? (head - oldest.head) / seconds : undefined;
    const remaining = Math.max(0, this.options.end - head);
    this.options.onProgress({
      headBlock: head,
      blocksPerSecond,
      etaSeconds: blocksPerSecond && blocksPerSecond > 0 ? remaining / blocksPerSecond : undefined,
    });
  }
}
