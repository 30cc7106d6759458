import type { Clock } from '../time/clock.js';
import type { Runner, RunOptions, RunResult, WorkItem } from './runner.js';
import { RunnerFailure } from './runner.js';
import { DEFAULT_SIM_CHAIN_ID, simBlockId, simIntegrityHash, simWrongHash } from './sim-chain.js';
import { SimFaultPlan, type SimFaultSpec } from './sim-faults.js';

/**
 * The `sim` runner: an in-process simulated chain (design §5) for tests,
 * demos and scale simulation. It "replays" from `start` to `end` at a given
 * speed on the injected clock, reporting progress every step, and returns
 * the deterministic hashes of sim-chain.ts. Faults (sim-faults.ts) make it
 * crash, hang, run slow or return a wrong hash for chosen items.
 */
export interface SimRunnerOptions {
  /** Replay speed. 0 means instant: no sleep at all (zero-work items for benchmarks). Default 10,000. */
  blocksPerSecond?: number;
  /** Progress step; the runner sleeps this long between head updates. Default 100 ms. */
  stepMs?: number;
  /** Simulated start-up time before the first block (loading a snapshot). Default 0. */
  startupMs?: number;
  /** When > 0, no head progress for this long fails the attempt as `stalled` (like the nodeos watchdog). Default 0: off. */
  stallTimeoutMs?: number;
  /** Chain id when the work item has none. */
  chainId?: string;
  faults?: SimFaultSpec;
}

export interface SimRunnerDeps {
  clock: Clock;
  /** This node's id, for node-scoped faults and per-node wrong hashes. */
  nodeId?: string;
}

const LOG_TAIL_LINES = 200;

export class SimRunner implements Runner {
  readonly name = 'sim';
  private readonly plan: SimFaultPlan;
  private readonly blocksPerSecond: number;
  private readonly stepMs: number;

  constructor(private readonly options: SimRunnerOptions, private readonly deps: SimRunnerDeps) {
    this.plan = new SimFaultPlan(options.faults);
    this.blocksPerSecond = options.blocksPerSecond ?? 10_000;
    this.stepMs = Math.max(1, options.stepMs ?? 100);
  }

  async prepare(): Promise<void> {}

  async close(): Promise<void> {}

  async run(item: WorkItem, { signal, onProgress }: RunOptions): Promise<RunResult> {
    const { clock } = this.deps;
    const chainId = item.chainId ?? this.options.chainId ?? DEFAULT_SIM_CHAIN_ID;
    const faults = this.plan.forAttempt(item, this.deps.nodeId);
    const speed = faults.blocksPerSecond ?? this.blocksPerSecond;
    const log: string[] = [];
    const say = (line: string): void => {
      log.push(line);
      if (log.length > LOG_TAIL_LINES) log.shift();
    };
    const began = clock.monotonic();
    signal.throwIfAborted();

    if (this.options.startupMs) await clock.sleep(this.options.startupMs, signal);
    const startHash = simIntegrityHash(chainId, item.start);
    say(`chain database started with hash: ${startHash}`);
    const replayBegan = clock.monotonic();

    let head = item.start;
    let lastProgressAt = clock.monotonic();
    // Step until the end; every stop condition is checked at the head it names.
    for (;;) {
      if (faults.crash && head >= faults.crash.block) {
        say(`simulated crash at block ${head}`);
        throw new RunnerFailure('crashed', `sim crashed at block ${head} (injected fault)`, {
          exitCode: faults.crash.exitCode,
          signal: faults.crash.signal,
          logTail: [...log],
        });
      }
      if (head >= item.end) break;
      if (faults.hangAt !== undefined && head >= faults.hangAt) {
        await this.hang(head, lastProgressAt, signal, say, log);
      }
      const next = this.nextHead(head, item.end, speed, faults.crash?.block, faults.hangAt);
      if (speed > 0) await clock.sleep(this.stepMs, signal);
      else signal.throwIfAborted();
      head = next;
      lastProgressAt = clock.monotonic();
      const elapsedS = (clock.monotonic() - replayBegan) / 1000;
      const bps = elapsedS > 0 ? (head - item.start) / elapsedS : undefined;
      say(`head block ${head}`);
      onProgress({
        headBlock: head,
        blocksPerSecond: bps,
        etaSeconds: bps ? (item.end - head) / bps : undefined,
      });
    }

    const endHash = faults.wrongHash
      ? simWrongHash(chainId, item.end, this.deps.nodeId)
      : simIntegrityHash(chainId, item.end);
    const done = clock.monotonic();
    return {
      startHash,
      endHash,
      headBlock: item.end,
      headBlockId: simBlockId(chainId, item.end),
      runner: 'sim/1',
      timings: { start: replayBegan - began, replay: done - replayBegan },
    };
  }

  /** The head after one step, never jumping past a block where a fault must fire. */
  private nextHead(head: number, end: number, speed: number, crashAt?: number, hangAt?: number): number {
    const step = speed > 0 ? Math.max(1, Math.floor((speed * this.stepMs) / 1000)) : end - head;
    let next = Math.min(end, head + step);
    for (const stop of [crashAt, hangAt]) {
      if (stop !== undefined && stop > head && stop < next) next = stop;
    }
    return next;
  }

  /** Stops progressing until aborted, or until the stall timeout (when set) fails the attempt. */
  private async hang(head: number, lastProgressAt: number, signal: AbortSignal, say: (l: string) => void, log: string[]): Promise<never> {
    say(`simulated hang at block ${head}`);
    const stallMs = this.options.stallTimeoutMs ?? 0;
    if (stallMs > 0) {
      await this.deps.clock.sleep(Math.max(0, lastProgressAt + stallMs - this.deps.clock.monotonic()), signal);
      say(`no progress for ${stallMs} ms, giving up`);
      throw new RunnerFailure('stalled', `sim made no progress past block ${head} for ${stallMs} ms (injected hang)`, {
        logTail: [...log],
      });
    }
    for (;;) await this.deps.clock.sleep(3_600_000, signal);
  }
}
