import type { WorkItem } from '../runner.js';
import { getInfo, getIntegrityHash, type ChainInfo } from './http.js';
import { failure, startNodeos, type NodeosSession } from './session.js';

/**
 * When the replay did not log its stop hash (or the end block's id is not
 * known), restart nodeos on the final state read-only (`read-mode = head`,
 * no p2p, as the ENF tool's readonly-config.ini), check that its head is the
 * end block, and ask `POST /v1/producer/get_integrity_hash` (HTTP 201; can
 * take minutes on big state, hence the long timeout).
 */
export interface ReadOnlyResult {
  headBlockId: string;
  /** Present when asked for. */
  integrityHash?: string;
}

export async function readOnlyHash(session: NodeosSession, item: WorkItem, wantHash: boolean, signal: AbortSignal): Promise<ReadOnlyResult> {
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
    if (!wantHash) return { headBlockId: info.head_block_id };
    try {
      const hash = await getIntegrityHash({ clock }, baseUrl, options.hashTimeoutMs, signal);
      return { headBlockId: hash.head_block_id || info.head_block_id, integrityHash: hash.integrity_hash.toLowerCase() };
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      throw failure(session, 'hash-unavailable', `get_integrity_hash failed: ${(error as Error).message}`);
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
