import type { Gossip } from '../gossip/gossip.js';
import { GossipHints } from '../gossip/hints.js';
import type { MemberRecord } from '../gossip/membership.js';
import type { EventUpdate, ItemProgress } from '../gossip/messages.js';
import type { NodeContext } from './node-context.js';
import type { NodeState } from '../records/node-record.js';
import type { WorkView } from './work-view.js';

/** The slice of gossip a node uses. */
export type GossipPart = Gossip;

/** Events after which there may be something to claim at once. */
const WAKING_EVENTS = new Set(['released', 'failed', 'renewed-lost', 'leaving']);

/**
 * A node's use of gossip (issue 6): publishes its events and progress, turns
 * what it hears into GossipHints for the scheduler, and wakes the node when
 * a peer released something. Hints only: every claim still goes through the
 * store. Progress is published at most every `progressEveryMs`, except on a
 * state change.
 */
export class NodeGossip {
  readonly hints: GossipHints;
  private lastProgressAt = -Infinity;
  private lastState: string | undefined;
  private unsubscribe: (() => void) | undefined;
  /** Node id -> when a message from it last arrived (monotonic). */
  private readonly lastHeard = new Map<string, number>();

  constructor(private readonly gossip: GossipPart, private readonly ctx: NodeContext, private readonly onHint: () => void) {
    this.hints = new GossipHints(ctx.clock, ctx.node, ctx.manifest.defaults.leaseTtlMs);
  }

  get peerId(): string {
    return this.gossip.peerId;
  }

  addresses(): string[] {
    return this.gossip.addresses();
  }

  async start(): Promise<void> {
    this.unsubscribe ??= this.gossip.onMessage((received) => {
      this.hints.observe(received);
      const { message } = received;
      if (!this.lastHeard.has(message.node)) this.ctx.logger.debug({ peer: message.node, type: message.type }, 'gossip: first message from a peer');
      this.lastHeard.set(message.node, this.ctx.clock.monotonic());
      if (message.type === 'event' && WAKING_EVENTS.has(message.event)) this.onHint();
    });
    await this.gossip.start();
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    await this.gossip.stop();
  }

  event(event: EventUpdate): void {
    this.gossip.publishEvent(event);
  }

  progress(state: NodeState, items: ItemProgress[]): void {
    const now = this.ctx.clock.monotonic();
    if (state === this.lastState && now - this.lastProgressAt < this.ctx.settings.progressEveryMs) return;
    this.lastState = state;
    this.lastProgressAt = now;
    this.gossip.publishProgress({ state, items: items.map((i) => ({ ...i, blocksPerSecond: Math.round(i.blocksPerSecond) })) });
  }

  /** Every item `view` does not know as finished was announced done by a peer: a listing would confirm the run is complete. */
  allAnnouncedDone(view: WorkView): boolean {
    for (const item of view.order) {
      const k = view.get(item.id);
      if (k?.state !== 'done' && k?.state !== 'failed' && this.hints.finishedHash(item.id) === undefined) return false;
    }
    return true;
  }

  /**
   * Whether every one of `nodes` was heard from within `withinMs`. Peers
   * re-publish their progress every couple of seconds, so a live, reachable
   * peer always is; a crashed, partitioned or gossip-less peer is not.
   */
  hearsAll(nodes: Iterable<string>, withinMs: number): boolean {
    const now = this.ctx.clock.monotonic();
    for (const node of nodes) {
      const at = this.lastHeard.get(node);
      if (at === undefined || now - at > withinMs) return false;
    }
    return true;
  }

  /** Members: the peers' live records and this node itself. */
  setMembers(peers: MemberRecord[], selfPeerId: string | undefined): void {
    const self: MemberRecord[] = selfPeerId ? [{ node: this.ctx.node, peerId: selfPeerId, addrs: this.gossip.addresses() }] : [];
    this.gossip.setMembers([...self, ...peers]);
  }
}
