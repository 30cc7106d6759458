/**
 * Gossip over libp2p: the hint channel between replay nodes (and the
 * observer). See docs/gossip.md. Callers need only what is exported here.
 */
export type { Gossip, GossipCounters, DropReason, ReceivedMessage } from './gossip.js';
export { createGossip } from './libp2p-gossip.js';
export type { GossipOptions, GossipTuning } from './gossip-options.js';
export { defaultGossipTuning, DEFAULT_LISTEN } from './gossip-options.js';
export type { MemberRecord } from './membership.js';
export type { EventKind, EventUpdate, GossipMessage, ItemProgress, ProgressUpdate } from './messages.js';
export { eventsTopic, progressTopic } from './messages.js';
export { GossipHints, type PeerState } from './hints.js';
export { readSwarmKey, writeNewSwarmKey } from './swarm-key.js';
export { listenOnPort, parseAddress } from './addresses.js';
export { GossipAddressError, GossipListenError, PeerIdentityError, SwarmKeyError } from './errors.js';
