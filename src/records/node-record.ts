/**
 * A node's own record, `runs/<run>/nodes/<node>.json` (schema
 * `replay/node/v1`): what it is doing, written by that node only
 * (overwrite) on every state change, claim and heartbeat.
 *
 * Others never trust the wall-clock fields: a record whose ETag has not
 * changed for `staleAfterMs` on the reader's own monotonic clock (or by the
 * store's clock) is stale, and its node presumed dead; its `items` then name
 * the leases to look at (docs/protocol.md §4). The `seq` grows on every
 * write, so every heartbeat changes the ETag.
 */
import { checkRecordBounds, checkRecordSize } from '../layout/record-bounds.js';
import { CorruptObjectError, decodeJson, encodeJson } from '../layout/schema.js';

/** `dead` is never written: it is how others see a node whose record went stale. */
export const NODE_STATES = ['initializing', 'waiting', 'working', 'paused', 'draining', 'stopping', 'stopped'] as const;
export type NodeState = (typeof NODE_STATES)[number];

export interface NodeItem {
  item: string;
  epoch: number;
  /** Writer's wall clock, ISO; for people. */
  startedAt: string;
  headBlock?: number;
  blocksPerSecond?: number;
}

export interface NodeCounts {
  /** Results this node wrote (canonical). */
  done: number;
  /** Its results that matched an existing canonical result. */
  confirmed: number;
  conflicts: number;
  failed: number;
}

export interface NodeRecord {
  schema: 'replay/node/v1';
  run: string;
  node: string;
  state: NodeState;
  items: NodeItem[];
  host: string;
  pid: number;
  /** replay-cluster version. */
  version: string;
  runner: string;
  concurrency: number;
  /** Writer's wall clock, ISO; for people only. */
  startedAt: string;
  heartbeatAt: string;
  /** How often this node rewrites its record; readers call it stale after `staleAfterMs` without a change. */
  heartbeatMs: number;
  staleAfterMs: number;
  /** Grows by one on every write. */
  seq: number;
  counts: NodeCounts;
  /** Gossip identity and dialable addresses (absent with --no-gossip). */
  peerId?: string;
  addrs?: string[];
  /** Why it stopped: `signal SIGTERM`, `drained`, `run complete`, an error. */
  reason?: string;
  /**
   * Items this node gave back unfinished (a failed attempt, a stop), most
   * recent last, at most 32: peers that see one leave `items` read its lease
   * at once, since it is claimable; items that left `items` finished need no read.
   */
  released?: string[];
  /**
   * Set while this node finds the store unavailable (this host's wall clock,
   * ISO, for people): it works on nothing then and resumes on its own. A
   * record carrying it was written when a request got through.
   */
  storeUnavailableSince?: string;
}

export const encodeNodeRecord = (record: NodeRecord): string => encodeJson(record);

const STATES: ReadonlySet<string> = new Set(NODE_STATES);

/** @throws CorruptObjectError (also for a record over the small-record bounds, record-bounds.ts) */
export function decodeNodeRecord(key: string, body: Uint8Array | string): NodeRecord {
  checkRecordSize(key, body);
  const r = decodeJson<NodeRecord>(key, body, 'node');
  checkRecordBounds(key, r);
  const bad = (field: string): never => {
    throw new CorruptObjectError(key, `field "${field}" missing or invalid`);
  };
  if (typeof r.node !== 'string' || r.node === '') bad('node');
  if (typeof r.state !== 'string' || !STATES.has(r.state)) bad('state');
  if (!Array.isArray(r.items) || r.items.some((i) => typeof i?.item !== 'string')) bad('items');
  if (!(typeof r.staleAfterMs === 'number' && r.staleAfterMs > 0)) bad('staleAfterMs');
  if (r.peerId !== undefined && typeof r.peerId !== 'string') bad('peerId');
  if (r.addrs !== undefined && (!Array.isArray(r.addrs) || r.addrs.some((a) => typeof a !== 'string'))) bad('addrs');
  if (r.released !== undefined && (!Array.isArray(r.released) || r.released.some((a) => typeof a !== 'string'))) bad('released');
  if (r.storeUnavailableSince !== undefined && typeof r.storeUnavailableSince !== 'string') bad('storeUnavailableSince');
  return r;
}
