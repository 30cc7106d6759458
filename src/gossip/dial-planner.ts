import type { Clock } from '../time/clock.js';

export interface DialPolicy {
  /** First retry delay after a dial attempt; doubles per attempt up to maxBackoffMs. */
  minBackoffMs: number;
  maxBackoffMs: number;
  /**
   * The higher peer id normally waits to be dialled (both sides dialling at
   * once doubles connections). If still unconnected after this long, it dials
   * too: the lower side may be unable to reach it (NAT, one-way firewall).
   */
  fallbackMs: number;
}

export const defaultDialPolicy: DialPolicy = { minBackoffMs: 500, maxBackoffMs: 5_000, fallbackMs: 10_000 };

interface PeerState {
  disconnectedSince: number;
  nextAttemptAt: number;
  backoffMs: number;
}

/**
 * Decides which unconnected peers to dial now. Pure bookkeeping on the
 * injected clock; the dialer loop does the dialling. A peer's state is
 * forgotten once it is seen connected, so a later disconnect starts afresh.
 */
export class DialPlanner {
  private readonly peers = new Map<string, PeerState>();
  private readonly eager = new Set<string>();

  constructor(
    private readonly selfPeerId: string,
    private readonly clock: Clock,
    private readonly policy: DialPolicy = defaultDialPolicy,
  ) {}

  /**
   * @param candidates member peers (and bootstrap peers) other than self
   * @param connected peers with an open connection now
   * @param alwaysDial peers this side dials whatever the id order (bootstrap peers)
   */
  due(candidates: readonly string[], connected: ReadonlySet<string>, alwaysDial: ReadonlySet<string> = new Set()): string[] {
    const now = this.clock.monotonic();
    const wanted = new Set(candidates);
    for (const peer of this.peers.keys()) if (!wanted.has(peer) || connected.has(peer)) this.peers.delete(peer);
    for (const peer of this.eager) if (!wanted.has(peer) || connected.has(peer)) this.eager.delete(peer);
    const due: string[] = [];
    for (const peer of candidates) {
      if (peer === this.selfPeerId || connected.has(peer)) continue;
      let state = this.peers.get(peer);
      if (!state) {
        state = { disconnectedSince: now, nextAttemptAt: now, backoffMs: this.policy.minBackoffMs };
        this.peers.set(peer, state);
      }
      const ourTurn = alwaysDial.has(peer) || this.eager.has(peer) || this.selfPeerId < peer || now - state.disconnectedSince >= this.policy.fallbackMs;
      if (!ourTurn || now < state.nextAttemptAt) continue;
      due.push(peer);
      this.eager.delete(peer);
      state.nextAttemptAt = now + state.backoffMs;
      state.backoffMs = Math.min(this.policy.maxBackoffMs, state.backoffMs * 2);
    }
    return due;
  }

  /**
   * Dial `peer` at the next tick whatever the id order: it tried to reach us
   * while we did not know it yet (we refused), and is a member now. Waiting
   * for its backed-off retry would delay a late joiner by seconds.
   */
  dialSoon(peer: string): void {
    this.eager.add(peer);
    const state = this.peers.get(peer);
    if (state) {
      state.nextAttemptAt = this.clock.monotonic();
      state.backoffMs = this.policy.minBackoffMs;
    }
  }
}
