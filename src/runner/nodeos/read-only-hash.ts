import type { WorkItem } from '../runner.js';
import { getInfo, getIntegrityHash, type ChainInfo } from './http.js';
import { failure, startNodeos, type NodeosSession } from './session.js';
import { messageOf } from '../../util/message-of.js';

/**
 * When the replay did not end with nodeos's word that it reached END and
 * its stop hash, restart nodeos on the final state read-only (`read-mode =
 * head`, no p2p, as the ENF tool's readonly-config.ini), check that its head
 * is the end block (and the block id the log named for it, if any), and ask
 * `POST /v1/producer/get_integrity_hash` (HTTP 201; can take minutes on big
 * state, hence the long timeout) unless a stop hash was logged after all.
 */
export interface ReadOnlyResult {
  headBlockId: string;
  integrityHash: string;
}

export interface ReadOnlyInput {
  /** A stop hash the replay logged without saying it reached END: kept once the head is proven to be END. */
  stopHash?: string;
  /** END's block id when the replay's log or answers named it. */
  endBlockId?: string;
}

export async function readOnlyHash(session: NodeosSession, item: WorkItem, known: ReadOnlyInput, signal: AbortSignal): Promise<ReadOnlyResult> {
  const { clock, options } = session;
  const { process, baseUrl } = await startNodeos(session, [], true);
  try {
    const info = await waitForHttp(session, baseUrl, () => process.running, signal);
    if (!info) {
      const exit = process.running ? undefined : await process.exited;
      throw failure(session, 'hash-unavailable', `read-only nodeos did not answer within ${options.startupTimeoutMs} ms`, exit);
    }
    if (info.head_block_num !== item.end) {
      throw failure(session, 'wrong-head', `the replayed state is at block ${info.head_block_num}, expected ${item.end}`);
    }
    if (known.endBlockId && info.head_block_id.toLowerCase() !== known.endBlockId.toLowerCase()) {
      throw failure(session, 'wrong-head', `the replayed state's head is block ${info.head_block_id}, but the replay reached ${known.endBlockId} at ${item.end}`);
    }
    if (known.stopHash) return { headBlockId: info.head_block_id, integrityHash: known.stopHash };
    try {
      const hash = await getIntegrityHash({ clock }, baseUrl, options.hashTimeoutMs, signal);
      return { headBlockId: hash.head_block_id || info.head_block_id, integrityHash: hash.integrity_hash.toLowerCase() };
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      throw failure(session, 'hash-unavailable', `get_integrity_hash failed: ${messageOf(error)}`);
    }
  } finally {
    await process.stop(options.killGraceMs, 'hash read');
  }
}

/** Polls get_info until it answers, nodeos exits, or the start-up timeout passes. */
async function waitForHttp(session: NodeosSession, baseUrl: string, running: () => boolean, signal: AbortSignal): Promise<ChainInfo | undefined> {
  const { clock, options } = session;
  const giveUpAt = clock.monotonic() + options.startupTimeoutMs;
  const pollMs = Math.min(1_000, options.progressIntervalMs);
  while (running() && clock.monotonic() < giveUpAt) {
    try {
      return await getInfo({ clock }, baseUrl, 5_000, signal);
    } catch {
      if (signal.aborted) throw signal.reason;
    }
    await clock.sleep(pollMs, signal);
  }
  return undefined;
}
