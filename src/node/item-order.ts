import { createHash } from 'node:crypto';

/**
 * The order in which one node tries free items: sorted by a hash of
 * (node, item), i.e. rendezvous hashing. Every node walks its own
 * permutation, so nodes that start together rarely race for the same item,
 * whatever their number, without talking to each other.
 */
export function itemOrderFor<T extends { id: string }>(node: string, items: readonly T[]): T[] {
  const score = (id: string): string => createHash('sha1').update(node).update('\0').update(id).digest('hex');
  return items
    .map((item) => ({ item, key: score(item.id) }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .map(({ item }) => item);
}
