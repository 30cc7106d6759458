import type { Clock } from '../time/clock.js';
import type { Logger } from '../util/logger.js';

/** Budget drops worth telling an operator about: they name a peer that sends too much. */
export type BudgetDrop = 'throttled' | 'rateLimited';

/** Peers remembered at most; quiet ones are forgotten first. */
const MAX_PEERS = 1024;

/**
 * One warning per peer per period while its messages are dropped for being
 * over budget, with how many were dropped since the last line: a flood of
 * thousands of messages must not become thousands of log lines (writing
 * them would cost what the limit saves). The first drop is reported at
 * once, so the line names the peer while the flood is on.
 */
export class ThrottleReport {
  private readonly peers = new Map<string, { lastAt: number; throttled: number; rateLimited: number }>();

  constructor(
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly nodeOf: (peer: string) => string | undefined,
    private readonly periodMs = 10_000,
  ) {}

  drop(peer: string, reason: BudgetDrop): void {
    const now = this.clock.monotonic();
    let entry = this.peers.get(peer);
    if (!entry) {
      if (this.peers.size >= MAX_PEERS) this.forgetQuiet(now);
      entry = { lastAt: -Infinity, throttled: 0, rateLimited: 0 };
      this.peers.set(peer, entry);
    }
    entry[reason] += 1;
    if (now - entry.lastAt < this.periodMs) return;
    this.logger.warn(
      { peerId: peer, peer: this.nodeOf(peer), throttled: entry.throttled, rateLimited: entry.rateLimited, periodMs: this.periodMs },
      'gossip: throttling a peer that sends more than its message budget; its excess messages are dropped',
    );
    entry.lastAt = now;
    entry.throttled = 0;
    entry.rateLimited = 0;
  }

  private forgetQuiet(now: number): void {
    for (const [peer, entry] of this.peers) if (now - entry.lastAt >= this.periodMs) this.peers.delete(peer);
    if (this.peers.size >= MAX_PEERS) this.peers.clear();
  }
}
