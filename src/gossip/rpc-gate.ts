import type { Clock } from '../time/clock.js';
import type { Logger } from '../util/logger.js';
import type { RpcGate } from './gated-gossipsub.js';
import type { GossipCounters } from './gossip.js';
import type { GossipTuning } from './gossip-options.js';
import { InboundGate } from './inbound-gate.js';
import { LoopSlicer } from './loop-slicer.js';
import { RateLimiter } from './rate-limiter.js';
import type { ThrottleReport } from './throttle-report.js';

export interface RpcGateDeps {
  clock: Clock;
  tuning: Pick<GossipTuning, 'peerBudget' | 'maxMessageBytes'>;
  /** The node's counters: `received` and the gate's drop reasons are counted here. */
  stats: GossipCounters;
  throttles: ThrottleReport;
  logger: Logger;
}

/** What a gossip node puts in front of gossipsub: the per-peer gate, and a pause between slices of work. */
export function createRpcGate({ clock, tuning, stats, throttles, logger }: RpcGateDeps): RpcGate {
  const slicer = new LoopSlicer(clock);
  const inbound = new InboundGate({
    limiter: new RateLimiter(clock, tuning.peerBudget),
    maxMessageBytes: tuning.maxMessageBytes,
    onOffered: () => {
      stats.received += 1;
    },
    onDrop: (reason, peer) => {
      stats.dropped[reason] += 1;
      // A flood is reported once per peer per period, not once per message.
      if (reason === 'throttled') throttles.drop(peer, reason);
      else logger.debug({ reason, peerId: peer }, 'dropped a gossip message');
    },
  });
  return { admit: (peer, messages) => inbound.admit(peer, messages), pause: () => slicer.pause() };
}
