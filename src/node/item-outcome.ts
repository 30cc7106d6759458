import type { Logger } from '../util/logger.js';
import type { DigestWriter } from './digest-writer.js';
import type { NodeGossip } from './node-gossip.js';
import type { NodeCounts } from '../records/node-record.js';
import type { ResultCheck } from './result-check.js';
import type { Scheduler } from './scheduler.js';
import type { ItemOutcome } from './work-item.js';
import type { WorkView } from './work-view.js';

const MAX_RELEASED = 32;

export interface OutcomeSinks {
  view: WorkView;
  scheduler: Scheduler;
  counts: NodeCounts;
  /** Items given back unfinished, most recent last (the node record's `released`). */
  released: string[];
  /** Results this node wrote go into its next digest. */
  digests: DigestWriter;
  /** ...and are usable without a read (the version its PUT returned). */
  results: ResultCheck;
  gossip: NodeGossip | undefined;
  logger: Logger;
}

/**
 * What a finished piece of work changes on this node: its view of the run,
 * its counts (shown in its node record), the scheduler's memory of local
 * failures, and the gossip event that tells the others at once.
 */
export function recordOutcome(sinks: OutcomeSinks, id: string, epoch: number, outcome: ItemOutcome): void {
  const { view, scheduler, counts, gossip, logger } = sinks;
  const gaveBack = (): void => {
    sinks.released.push(id);
    if (sinks.released.length > MAX_RELEASED) sinks.released.shift();
  };
  switch (outcome.kind) {
    case 'done': {
      view.markDone(id);
      // A replay that reached a result, whatever the result: this node is healthy (retry-rule.ts).
      scheduler.completedHere();
      const { publish, result, replicaConflicts } = outcome;
      if (publish.kind === 'written') {
        counts.done++;
        sinks.digests.add(result);
        sinks.results.own(id, publish.etag);
      }
      if (publish.kind === 'confirmed') counts.confirmed++;
      const conflict = publish.kind === 'conflict' || replicaConflicts.length > 0;
      if (conflict) counts.conflicts++;
      logger.info({ item: id, endHash: result.endHash, verdict: result.verdict, outcome: publish.kind, replicaConflicts }, `finished ${id}`);
      gossip?.event({ event: conflict ? 'conflict' : 'done', item: id, epoch, hash: result.endHash });
      return;
    }
    case 'already-done':
      view.markDone(id);
      gossip?.event({ event: 'done', item: id, epoch });
      return;
    case 'failed':
      counts.failed++;
      if (outcome.final) view.markFailed(id);
      else {
        scheduler.failedHere(id);
        gaveBack();
      }
      gossip?.event({ event: outcome.final ? 'failed' : 'released', item: id, epoch, reason: outcome.reason });
      return;
    case 'host-fault':
      // Released, not counted: the node stops claiming (replay-node.ts says so once).
      gaveBack();
      gossip?.event({ event: 'released', item: id, epoch, reason: `host-fault: ${outcome.fault.reason}` });
      return;
    case 'lost':
      gossip?.event({ event: 'renewed-lost', item: id, epoch, reason: outcome.reason });
      return;
    case 'stopped':
      gaveBack();
      gossip?.event({ event: 'released', item: id, epoch, reason: 'stopping' });
      return;
  }
}
