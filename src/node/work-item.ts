import { runKeys } from '../layout/keys.js';
import { LeaseKeeperStoppedError, LeaseLostError } from '../lease/errors.js';
import type { AcquiredHow, HeldLease } from '../lease/lease.js';
import { finishLease } from '../lease/finish.js';
import { LeaseKeeper } from '../lease/lease-keeper.js';
import { withLease } from '../lease/with-lease.js';
import { readLease } from '../lease/read-lease.js';
import type { ReleaseOptions } from '../lease/release.js';
import type { ManifestItem } from '../manifest/items.js';
import { NotFoundError, StoreError } from '../store/errors.js';
import { RunnerFailure, type Runner, type RunnerProgress, type WorkItem } from '../runner/runner.js';
import { compareReplicas } from './compare-replicas.js';
import { hostFaultOf, type HostFault } from './host-fault.js';
import { isoNow, type NodeContext } from './node-context.js';
import { publishResult, type PublishOutcome } from './publish-result.js';
import { recordFailure } from './record-failure.js';
import { verdictOf, type ResultRecord } from '../records/result-record.js';
import { messageOf } from '../util/message-of.js';

export type ItemOutcome =
  /** `replicaConflicts`: sibling replicas whose results differ from ours (each recorded as a conflict). */
  | { kind: 'done'; publish: PublishOutcome; result: ResultRecord; replicaConflicts: string[] }
  /** A result was already there (a previous holder finished, then died before releasing). */
  | { kind: 'already-done' }
  /** This attempt failed; `final`: the item is out of attempts and marked failed; `counted`: added to `failedBy` (retry-rule.ts). */
  | { kind: 'failed'; reason: string; final: boolean; counted: boolean }
  /** The runner failed because of this host (host-fault.ts): the lease was released, the attempt not counted. */
  | { kind: 'host-fault'; fault: HostFault }
  /** The lease was lost mid-work (taken over after a freeze, store unreachable): work stopped, nothing written. */
  | { kind: 'lost'; reason: string }
  /** The node is stopping: the lease was released for others. */
  | { kind: 'stopped' };

export interface WorkItemHooks {
  onProgress(item: string, progress: RunnerProgress): void;
  /** Aborts when the node stops: ends the retries of result and failure writes that wait out a store outage. */
  halt: AbortSignal;
  /** The item has its result but its lease (held at `epoch`) could not be marked done now: finish it later. */
  onOpenLease(item: string, epoch: number): void;
  /** Whether this node's failure of `item` counts toward its attempts, given the lease's `failedBy` (retry-rule.ts). */
  failureCounts(item: string, failedBy: readonly string[]): boolean;
}

/**
 * One claimed item from lease to result (docs/protocol.md §3.7, §6): keeps
 * the lease alive, runs the runner with the keeper's AbortSignal, writes the
 * immutable result (or a failure record), and releases the lease as done,
 * released or failed. Call `stop()` to give the item up (node stopping):
 * the runner is aborted and the lease released so another node can take it
 * at once. The work runs inside `withLease`, so every path ends with the
 * keeper stopped; a path that knows how the lease should end (done,
 * released, failed) says so with `keeper.stop(release)` first.
 */
export class ItemWork {
  readonly keeper: LeaseKeeper;
  private stopRequested: ReleaseOptions | undefined;
  /** The replay is over and its result is being written: a stop must not release the lease as merely `released`. */
  private publishing = false;

  constructor(
    private readonly ctx: NodeContext,
    private readonly runner: Runner,
    readonly item: ManifestItem,
    lease: HeldLease,
    private readonly how: AcquiredHow,
    private readonly hooks: WorkItemHooks,
  ) {
    this.keeper = new LeaseKeeper(ctx.lease, lease);
  }

  get epoch(): number {
    return this.keeper.lease.record.epoch;
  }

  /**
   * Gives the item up: aborts the runner, releases the lease (`released`, so
   * others take it at once). Once the result is being written the item is
   * let finish instead (its lease then ends `done`), bounded by the node's
   * stop timeout.
   */
  stop(reason: string): Promise<unknown> {
    this.stopRequested ??= { state: 'released', reason };
    if (this.publishing) return Promise.resolve();
    return this.keeper.stop(this.stopRequested);
  }

  /** Runs the item inside a scoped lease (src/lease/with-lease.ts): whatever happens, the keeper ends stopped. */
  run(): Promise<ItemOutcome> {
    return withLease(this.keeper, async () => {
      try {
        return await this.work();
      } catch (error) {
        // Store trouble while finishing (result or failure write): keep the lease's fate simple, let it expire.
        this.ctx.logger.error({ item: this.item.id, err: error }, 'item work failed unexpectedly; its lease will expire and the item be retried');
        return { kind: 'lost', reason: error instanceof Error ? error.message : String(error) };
      }
    });
  }

  private async work(): Promise<ItemOutcome> {
    const { ctx, keeper, item } = this;
    const record = keeper.lease.record;
    const maxAttempts = ctx.manifest.defaults.maxAttempts;

    if (this.how === 'took-over' && record.failedBy.length > 0) {
      // The previous holder's attempt ended without a release (crash, freeze, partition): say so.
      const holder = record.failedBy[record.failedBy.length - 1]!;
      const final = record.failedBy.length >= maxAttempts;
      await recordFailure(ctx, {
        item: item.id, node: holder, epoch: record.epoch - 1, attempt: record.attempts - 1, reason: 'lease-expired',
        message: `${holder} stopped renewing its lease (crash, freeze or partition); taken over by ${ctx.node}`, final,
      }, { signal: this.hooks.halt });
    }
    if (record.failedBy.length >= maxAttempts) {
      ctx.logger.error({ item: item.id, failedBy: record.failedBy }, `item ${item.id} failed ${record.failedBy.length} times; marked failed`);
      await keeper.stop({ state: 'failed', reason: `out of attempts (${record.failedBy.length} of ${maxAttempts})` });
      return { kind: 'failed', reason: 'out-of-attempts', final: true, counted: false };
    }
    if (this.how !== 'created' && (await this.hasResult())) {
      await this.finishAsDone('result already written');
      return { kind: 'already-done' };
    }

    const startedAt = isoNow(ctx.clock);
    const work: WorkItem = {
      run: ctx.run, itemId: item.id, start: item.start, end: item.end, snapshot: item.interval.snapshot,
      attempt: record.attempts,
      ...(item.replica === undefined ? {} : { replica: item.replica }),
      ...(ctx.manifest.chainId === undefined ? {} : { chainId: ctx.manifest.chainId }),
      ...(item.interval.expectedEndHash === undefined ? {} : { expectedEndHash: item.interval.expectedEndHash }),
    };
    let output;
    try {
      output = await this.runner.run(work, { signal: keeper.signal, onProgress: (p) => this.hooks.onProgress(item.id, p) });
    } catch (error) {
      return this.afterRunnerError(error);
    }

    const result: ResultRecord = {
      schema: 'replay/result/v1', run: ctx.run, item: item.id, start: item.start, end: item.end,
      ...(item.replica === undefined ? {} : { replica: item.replica }),
      ...(output.startHash === undefined ? {} : { startHash: output.startHash }),
      endHash: output.endHash, headBlock: output.headBlock, headBlockId: output.headBlockId,
      node: ctx.node, epoch: record.epoch, nonce: ctx.ids.ulid(), startedAt, finishedAt: isoNow(ctx.clock),
      runner: output.runner,
      ...(output.nodeosVersion === undefined ? {} : { nodeosVersion: output.nodeosVersion }),
      ...(item.interval.expectedEndHash === undefined ? {} : { expectedEndHash: item.interval.expectedEndHash }),
      verdict: verdictOf(output.endHash, item.interval.expectedEndHash), timings: output.timings,
    };
    if (result.verdict === 'mismatch') {
      ctx.logger.error({ item: item.id, endHash: result.endHash, expected: result.expectedEndHash }, `HASH MISMATCH on ${item.id}: end hash differs from the manifest's expected hash`);
    }
    this.publishing = true;
    const publish = await publishResult(ctx, result, { signal: this.hooks.halt });
    const replicaConflicts = publish.kind === 'conflict' ? [] : await compareReplicas(ctx, item, ctx.manifest.replicas, result);
    await this.finishAsDone();
    return { kind: 'done', publish, result, replicaConflicts };
  }

  /**
   * The item has its result: the lease must end `done`. Normally the
   * keeper's release does it. When the keeper could not (its lease was
   * given up at the deadline during an outage, or the release failed), the
   * lease is still at our epoch unless someone took it over: finish it
   * from a fresh read, so that no lease stays `held` beside a result.
   */
  private async finishAsDone(reason?: string): Promise<void> {
    const { ctx, keeper, item } = this;
    if (await keeper.stop({ state: 'done', ...(reason ? { reason } : {}) })) return;
    const own = { holder: ctx.node, epoch: keeper.lease.record.epoch };
    try {
      const outcome = await finishLease(ctx.lease, await readLease(ctx.lease, item.id), { own, reason: 'result written', signal: this.hooks.halt });
      ctx.logger.debug({ item: item.id, outcome: outcome.kind }, 'finishing the lease of a written result');
    } catch (error) {
      // The store went away between the result and the release: the scheduler tries again once it answers.
      ctx.logger.warn({ item: item.id, err: messageOf(error) }, 'lease of a written result not marked done yet; trying again later');
      this.hooks.onOpenLease(item.id, own.epoch);
    }
  }

  private async afterRunnerError(error: unknown): Promise<ItemOutcome> {
    const { ctx, keeper, item } = this;
    const aborted = keeper.signal.aborted ? keeper.signal.reason : undefined;
    if (aborted instanceof LeaseKeeperStoppedError || this.stopRequested) {
      await keeper.stop(this.stopRequested);
      return { kind: 'stopped' };
    }
    if (aborted instanceof LeaseLostError) {
      // The lease is gone: nothing to release; withLease stops the keeper.
      ctx.logger.warn({ item: item.id, reason: aborted.reason }, `stopped work on ${item.id}: ${aborted.message}`);
      return { kind: 'lost', reason: aborted.reason };
    }
    const record = keeper.lease.record;
    const failure = error instanceof RunnerFailure
      ? error
      : new RunnerFailure('runner-error', `runner error: ${messageOf(error)}`);
    const details = {
      logTail: failure.details.logTail ?? [],
      ...(failure.details.exitCode === undefined ? {} : { exitCode: failure.details.exitCode }),
      ...(failure.details.signal === undefined ? {} : { signal: failure.details.signal }),
    };
    const host = hostFaultOf(error);
    if (host) {
      // Not the item's fault: released for others at once, nobody added to failedBy (the node reports it once and stops claiming).
      ctx.logger.warn({ item: item.id, reason: host.reason, hostFault: true }, `attempt at ${item.id} failed on this host (${host.reason}): ${host.message}; released, not counted against the item`);
      await recordFailure(ctx, {
        item: item.id, node: ctx.node, epoch: record.epoch, attempt: record.attempts, reason: host.reason,
        message: host.message, final: false, counted: false, hostFault: true, ...details,
      }, { signal: this.hooks.halt });
      await keeper.stop({ state: 'released', reason: `host-fault: ${host.reason}` });
      return { kind: 'host-fault', fault: host };
    }
    const counted = this.hooks.failureCounts(item.id, record.failedBy);
    const final = counted && record.failedBy.length + 1 >= ctx.manifest.defaults.maxAttempts;
    const note = counted ? '' : ` (not counted: ${ctx.node} failed it before and has completed no item since; left to other nodes)`;
    ctx.logger.warn({ item: item.id, reason: failure.reason, final, counted }, `attempt at ${item.id} failed: ${failure.message}${note}`);
    await recordFailure(ctx, {
      item: item.id, node: ctx.node, epoch: record.epoch, attempt: record.attempts, reason: failure.reason,
      message: failure.message, final, ...(counted ? {} : { counted: false }), ...details,
    }, { signal: this.hooks.halt });
    await keeper.stop({ state: final ? 'failed' : 'released', failed: counted, reason: `runner-failed: ${failure.reason}` });
    return { kind: 'failed', reason: failure.reason, final, counted };
  }

  private async hasResult(): Promise<boolean> {
    try {
      await this.ctx.store.head(runKeys(this.ctx.run).result(this.item.id));
      return true;
    } catch (error) {
      if (error instanceof NotFoundError) return false;
      if (error instanceof StoreError && error.retryable) return false; // the result write decides later
      throw error;
    }
  }
}
