/**
 * Gossip errors a user can act on. Everything else in gossip is a hint that
 * fails quietly (counted and logged), because correctness never depends on it.
 */

/** The swarm key file is missing, unreadable or not in the libp2p v1 PSK format. */
export class SwarmKeyError extends Error {
  override readonly name = 'SwarmKeyError';
  constructor(readonly path: string, problem: string, options?: { cause?: unknown }) {
    super(`swarm key ${path}: ${problem}`, options);
  }
}

/** The persisted peer identity cannot be read or is not a private key. */
export class PeerIdentityError extends Error {
  override readonly name = 'PeerIdentityError';
  constructor(readonly path: string, problem: string, options?: { cause?: unknown }) {
    super(`peer identity ${path}: ${problem}; move the file away to get a new peer id`, options);
  }
}

/** A listen, announce or bootstrap address that is not a usable multiaddr. */
export class GossipAddressError extends Error {
  override readonly name = 'GossipAddressError';
  constructor(readonly address: string, problem: string) {
    super(`gossip address ${JSON.stringify(address)}: ${problem}`);
  }
}

/** libp2p could not listen on the configured addresses (port taken, address not on this host). */
export class GossipListenError extends Error {
  override readonly name = 'GossipListenError';
  constructor(readonly addresses: string[], problem: string, options?: { cause?: unknown }) {
    super(`gossip cannot listen on ${addresses.join(', ')} (${problem}); choose another --p2p-port or --listen, or run with --no-gossip`, options);
  }
}
