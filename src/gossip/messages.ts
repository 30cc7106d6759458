/**
 * What nodes say to each other. Two topics per run: progress carries each
 * node's latest state (re-published, so a late joiner catches up without
 * history); events carry one-shot facts. Both are hints: a receiver confirms
 * in the store before acting on anything that matters.
 *
 * Messages are small JSON with a `schema` tag like the objects in the bucket;
 * a breaking change gets a new schema and a new topic version.
 */
export const GOSSIP_SCHEMA = 'replay/gossip/v1';

/** Messages above this many bytes are dropped as oversized (progress with MAX_PROGRESS_ITEMS items is under 6 KiB). */
export const MAX_MESSAGE_BYTES = 8192;
/**
 * A message's `sentAt` must lie within this of the receiver's wall clock.
 * Clocks of a run's hosts differ by seconds or minutes; a day off is a bug
 * or a forgery, and a time such as 2^53-1 is not even a date.
 */
export const MAX_CLOCK_DISTANCE_MS = 24 * 60 * 60 * 1000;
/** A progress message lists at most this many items (a node works on `--concurrency` items). */
export const MAX_PROGRESS_ITEMS = 64;

export function progressTopic(run: string): string {
  return `replay/${run}/progress/v1`;
}

export function eventsTopic(run: string): string {
  return `replay/${run}/events/v1`;
}

/** Fields every message carries. */
interface Envelope {
  schema: typeof GOSSIP_SCHEMA;
  run: string;
  /** The sender's node id; must match the node record that lists the sender's peer id. */
  node: string;
  /** A ULID from the sender: increasing per sender, so a receiver keeps the newest state. */
  id: string;
  /** Sender's wall clock (ms since epoch), for display only; receivers drop messages more than MAX_CLOCK_DISTANCE_MS from their own. */
  sentAt: number;
}

export interface ItemProgress {
  item: string;
  /** Highest block replayed so far. */
  headBlock: number;
  blocksPerSecond: number;
}

/** A node's latest state, published on change and re-published periodically. */
export interface ProgressMessage extends Envelope {
  type: 'progress';
  /** The node's state as its record names it (initializing, waiting, working, paused, ...). */
  state: string;
  items: ItemProgress[];
}

export const EVENT_KINDS = [
  'claimed', 'renewed-lost', 'done', 'released', 'failed', 'conflict', 'joining', 'leaving',
] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

/** Which event kinds name an item, and which carry a hash. */
export const ITEM_EVENTS: ReadonlySet<EventKind> = new Set([
  'claimed', 'renewed-lost', 'done', 'released', 'failed', 'conflict',
]);
export const HASH_EVENTS: ReadonlySet<EventKind> = new Set(['done', 'conflict']);

export interface EventMessage extends Envelope {
  type: 'event';
  event: EventKind;
  /** Present for item events. */
  item?: string;
  /** The lease epoch (fencing number) for claimed/released/done, when known. */
  epoch?: number;
  /** The end integrity hash, for done and conflict. */
  hash?: string;
  /** Short free text (why it failed or was released). */
  reason?: string;
}

export type GossipMessage = ProgressMessage | EventMessage;

/** What a caller publishes: the envelope is filled in by the gossip node. */
export type ProgressUpdate = Pick<ProgressMessage, 'state' | 'items'>;
export type EventUpdate = Pick<EventMessage, 'event' | 'item' | 'epoch' | 'hash' | 'reason'>;

export function encodeMessage(message: GossipMessage): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(message));
}
