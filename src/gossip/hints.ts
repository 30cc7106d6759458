import type { Clock } from '../time/clock.js';
import type { ReceivedMessage } from './gossip.js';
import type { ItemProgress } from './messages.js';

export interface PeerState {
  node: string;
  state: string;
  items: ItemProgress[];
  /** Monotonic time (this host's clock) when the latest progress arrived. */
  heardAt: number;
}

/**
 * What this node has heard, as hints for its scheduler: which items other
 * nodes say they hold or finished, and which were just released. Nothing
 * here is authoritative: the scheduler still claims through the store, and a
 * claim heard more than `holdTtlMs` ago without fresh progress is forgotten,
 * so a lost `released` message only costs a wasted claim attempt later.
 */
export class GossipHints {
  private readonly peers = new Map<string, PeerState>();
  /** item -> holder node and when we last heard so. */
  private readonly held = new Map<string, { node: string; at: number }>();
  private readonly finished = new Map<string, string>();
  private readonly latestId = new Map<string, string>();
  private releasedItems: string[] = [];

  constructor(
    private readonly clock: Clock,
    private readonly selfNode: string,
    private readonly holdTtlMs = 30_000,
    private readonly maxFinished = 100_000,
  ) {}

  observe({ message }: ReceivedMessage): void {
    if (message.node === this.selfNode) return;
    const now = this.clock.monotonic();
    if (message.type === 'progress') {
      // ULIDs sort by creation: an older progress message delivered late must not win.
      const latest = this.latestId.get(message.node);
      if (latest !== undefined && latest > message.id) return;
      this.latestId.set(message.node, message.id);
      this.peers.set(message.node, { node: message.node, state: message.state, items: message.items, heardAt: now });
      const current = new Set(message.items.map(({ item }) => item));
      for (const [item, holder] of this.held) if (holder.node === message.node && !current.has(item)) this.held.delete(item);
      for (const item of current) this.held.set(item, { node: message.node, at: now });
      return;
    }
    switch (message.event) {
      case 'claimed':
        this.held.set(message.item!, { node: message.node, at: now });
        break;
      case 'done':
        this.forget(message.item!, message.node);
        if (this.finished.size >= this.maxFinished) this.finished.clear();
        this.finished.set(message.item!, message.hash!);
        break;
      case 'released':
        this.forget(message.item!, message.node);
        this.releasedItems.push(message.item!);
        break;
      case 'renewed-lost':
      case 'failed':
        this.forget(message.item!, message.node);
        break;
      case 'leaving':
        this.peers.delete(message.node);
        this.latestId.delete(message.node);
        for (const [item, holder] of this.held) if (holder.node === message.node) this.held.delete(item);
        break;
      default:
        break;
    }
  }

  /** Another node said recently that it holds `item`: skip it for now. */
  heldElsewhere(item: string): string | undefined {
    const holder = this.held.get(item);
    if (!holder) return undefined;
    if (this.clock.monotonic() - holder.at > this.holdTtlMs) {
      this.held.delete(item);
      return undefined;
    }
    return holder.node;
  }

  /** The end hash another node announced for `item` (confirm by reading the result before relying on it). */
  finishedHash(item: string): string | undefined {
    return this.finished.get(item);
  }

  /** Items released by their holders since the last call: candidates to claim at once. */
  takeReleased(): string[] {
    const items = this.releasedItems;
    this.releasedItems = [];
    return items;
  }

  /** The latest progress heard from each other node. */
  peerStates(): PeerState[] {
    return [...this.peers.values()];
  }

  private forget(item: string, node: string): void {
    if (this.held.get(item)?.node === node) this.held.delete(item);
  }
}
