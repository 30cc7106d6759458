import { createHash } from 'node:crypto';

/**
 * The simulated chain's deterministic state: every (chain id, block) has one
 * integrity hash and one block id, computed the same way by the `sim` runner
 * and by the fake nodeos in test/fixtures/fake-nodeos (which repeats these
 * few lines in plain JS; test/runner/sim-chain.test.ts checks they agree).
 *
 * Because the hash depends only on (chain, block), the end hash of interval
 * [a, b] equals the start hash of [b, c]: a multi-item run chains.
 */

/** Chain id used when neither the manifest nor the options name one. */
export const DEFAULT_SIM_CHAIN_ID = 'sim';

function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Integrity hash of the state after `block`: sha256 of `<chainId>:<block>`. */
export function simIntegrityHash(chainId: string, block: number): string {
  return sha256Hex(`${chainId}:${block}`);
}

/**
 * A block id shaped like Antelope's: the block number big-endian in the first
 * 4 bytes (8 hex digits), then 28 bytes of sha256 of `block:<chainId>:<block>`.
 */
export function simBlockId(chainId: string, block: number): string {
  const num = (block >>> 0).toString(16).padStart(8, '0');
  return num + sha256Hex(`block:${chainId}:${block}`).slice(8);
}

/** The block number encoded in an Antelope-style block id. */
export function blockNumFromId(blockId: string): number {
  return Number.parseInt(blockId.slice(0, 8), 16);
}

/**
 * A deliberately wrong hash for fault injection: differs from the true one
 * and, through `salt` (a node id), between nodes, so two faulty replicas
 * also disagree with each other.
 */
export function simWrongHash(chainId: string, block: number, salt = ''): string {
  return sha256Hex(`wrong:${chainId}:${block}:${salt}`);
}
