import type { Logger } from '../util/logger.js';
import type { Clock } from '../time/clock.js';
import type { IdSource } from '../util/ids.js';
import { defaultDialPolicy, type DialPolicy } from './dial-planner.js';
import { MAX_MESSAGE_BYTES } from './messages.js';
import type { RateLimit } from './rate-limiter.js';

/** Everything a gossip node needs; the caller resolves files (identity, swarm key) and flags into this. */
export interface GossipOptions {
  run: string;
  /** This node's id, as in its node record. */
  node: string;
  /** Holds the persisted peer identity (gossip-identity.key). */
  dataDir: string;
  /** Listen multiaddrs; default all interfaces on a free TCP port. */
  listen?: string[];
  /** Addresses to publish instead of the listening ones (a host behind NAT). */
  announce?: string[];
  /** pnet key bytes from readSwarmKey(); absent for an open network. */
  swarmKey?: Uint8Array;
  /** Multiaddrs with `/p2p/<peerId>` that this node always dials. */
  bootstrap?: string[];
  clock: Clock;
  ids: IdSource;
  logger: Logger;
  /** An unknown peer tried to connect: the caller may re-read node records early (it may be a new member). */
  onStranger?: (peerId: string) => void;
  tuning?: Partial<GossipTuning>;
}

export interface GossipTuning {
  /** How often the latest progress is re-published, so late joiners catch up. */
  republishMs: number;
  /** How often the dialer looks for members without a connection. */
  dialTickMs: number;
  dialTimeoutMs: number;
  dialPolicy: DialPolicy;
  /** Per-author limit on incoming messages (after the signature check). */
  rateLimit: RateLimit;
  /**
   * Per-peer limit on the messages a connected peer delivers, whoever wrote
   * them (a relay carries every author's): checked first, so a flood costs
   * a token bucket per message rather than a signature check.
   */
  peerBudget: RateLimit;
  /** At most one "throttling a peer" warning per peer per this period. */
  throttleLogMs: number;
  maxMessageBytes: number;
  /** stop(): time given to the `leaving` event to go out, and the bound on closing libp2p. */
  leaveGraceMs: number;
  stopTimeoutMs: number;
}

export const defaultGossipTuning: GossipTuning = {
  republishMs: 2_000,
  dialTickMs: 500,
  dialTimeoutMs: 5_000,
  dialPolicy: defaultDialPolicy,
  rateLimit: { perSecond: 50, burst: 200 },
  // Several authors' messages and their duplicates arrive through one peer: 4x one author's limit.
  peerBudget: { perSecond: 200, burst: 400 },
  throttleLogMs: 10_000,
  maxMessageBytes: MAX_MESSAGE_BYTES,
  leaveGraceMs: 150,
  stopTimeoutMs: 3_000,
};

export const DEFAULT_LISTEN = ['/ip4/0.0.0.0/tcp/0'];

export function resolveTuning(tuning: Partial<GossipTuning> = {}): GossipTuning {
  const resolved = { ...defaultGossipTuning, ...tuning };
  for (const key of ['republishMs', 'dialTickMs', 'dialTimeoutMs', 'maxMessageBytes', 'stopTimeoutMs', 'throttleLogMs'] as const) {
    if (!(resolved[key] > 0)) throw new RangeError(`gossip tuning ${key} must be > 0`);
  }
  return resolved;
}
