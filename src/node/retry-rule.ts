/**
 * Whether a failed attempt counts toward the item's retry limit
 * (`maxAttempts`, docs/protocol.md §6). The limit is meant to tell an item
 * that fails everywhere from a host that fails everything (issue 19: one
 * node failing every item three times itself marked the whole run failed).
 * So `failedBy` counts distinct nodes: a node's failure counts
 *
 *   - the first time it fails the item;
 *   - again only after it proved healthy: it replayed some item to a result
 *     since it last failed this one (this node's own memory; after a
 *     restart it has none, so it must prove itself again);
 *   - or when no live node that has not failed the item is left to try it
 *     (otherwise a node alone, or nodes that all failed it, would retry it
 *     forever and the run would never end).
 *
 * A failure that does not count releases the lease as `released` without
 * adding the node to `failedBy`; its failure record says `counted: false`,
 * and the node leaves the item to the others (scheduler.ts). Host faults
 * (host-fault.ts) never count.
 */
export interface RetryFacts {
  /** This node. */
  node: string;
  /** The lease's `failedBy` before this failure. */
  failedBy: readonly string[];
  /** This node completed an item since it last failed this one. */
  provedHealthy: boolean;
  /** Live peers (not this node). */
  liveNodes: readonly string[];
}

export function failureCounts(facts: RetryFacts): boolean {
  if (!facts.failedBy.includes(facts.node) || facts.provedHealthy) return true;
  return !facts.liveNodes.some((node) => node !== facts.node && !facts.failedBy.includes(node));
}
