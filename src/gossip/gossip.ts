import type { MemberRecord } from './membership.js';
import type { EventUpdate, GossipMessage, ProgressUpdate } from './messages.js';

/**
 * The narrow boundary the node (and later the observer) sees. Gossip is a
 * hint channel: every method is safe to call at any time, publishing never
 * throws, and nothing here reads or writes the store. The caller feeds the
 * member set from the run's node records and publishes the peer id and
 * addresses in its own record.
 */
export interface Gossip {
  /** This node's libp2p peer id (stable across restarts with the same data directory). */
  readonly peerId: string;
  /** Starts listening and dialling; idempotent. */
  start(): Promise<void>;
  /** Publishes `leaving` (if started), closes connections; idempotent and bounded in time. */
  stop(): Promise<void>;
  /** Multiaddrs others should dial (announce addresses if given, else the listening ones), with `/p2p/<peerId>`. */
  addresses(): string[];
  /** Replaces the member set: peers of live node records may connect and publish; everyone else is kept out. */
  setMembers(records: readonly MemberRecord[]): void;
  /** Publishes this node's latest state now and keeps re-publishing it until the next call. */
  publishProgress(progress: ProgressUpdate): void;
  /** Publishes a one-shot event (claimed, done, released, ...). Lost if no peer is connected: it is a hint. */
  publishEvent(event: EventUpdate): void;
  /** Calls `handler` for each accepted message from another member; returns an unsubscribe function. */
  onMessage(handler: (message: ReceivedMessage) => void): () => void;
  /** A snapshot of the counters (what was sent, accepted, and dropped and why). */
  counters(): GossipCounters;
}

export interface ReceivedMessage {
  /** The signing author's peer id (a member: the sender's node record lists it). */
  from: string;
  message: GossipMessage;
}

/** Why an incoming message was dropped. */
export type DropReason =
  /** Signed by a peer that is not in a live node record of the run. */
  | 'nonMember'
  /** Over MAX_MESSAGE_BYTES (checked before the signature). */
  | 'oversized'
  /** Not valid JSON, wrong schema, wrong run or type for the topic, a bad field, a sentAt more than a day from our clock. */
  | 'malformed'
  /** Well-formed, but names a node other than the one the author's record belongs to. */
  | 'impersonation'
  /** Over the author's per-peer rate limit (checked after the signature). */
  | 'rateLimited'
  /** Over the budget of the peer that delivered it, whoever wrote it (checked first, before the signature). */
  | 'throttled'
  /** Not signed (every node uses StrictSign). */
  | 'unsigned';

export interface GossipCounters {
  published: number;
  publishFailures: number;
  /** Messages that arrived, before any check (copies of one message relayed by several peers each count). */
  received: number;
  accepted: number;
  dropped: Record<DropReason, number>;
  /** Inbound connections refused because the peer is not a member (strangers). */
  refusedConnections: number;
  dials: number;
  dialFailures: number;
  /** Handshakes that failed in a way a different swarm key causes. */
  handshakeFailures: number;
  /** Open connections and member count now. */
  connections: number;
  members: number;
}

export function zeroCounters(): GossipCounters {
  return {
    published: 0,
    publishFailures: 0,
    received: 0,
    accepted: 0,
    dropped: { nonMember: 0, oversized: 0, malformed: 0, impersonation: 0, rateLimited: 0, throttled: 0, unsigned: 0 },
    refusedConnections: 0,
    dials: 0,
    dialFailures: 0,
    handshakeFailures: 0,
    connections: 0,
    members: 0,
  };
}
