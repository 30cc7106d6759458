/**
 * The lease object `runs/<run>/leases/<item>.json` (schema `replay/lease/v1`)
 * and the types every lease operation shares. The protocol is written down
 * in docs/protocol.md; the guarantees are design §3.
 *
 * Only the operations in this folder write lease objects: claim (create, or
 * CAS on a released lease), renew, release and take-over (CAS on the ETag
 * seen). Every write carries a fresh nonce so that an ambiguous outcome can
 * be decided by reading the object back.
 */
import type { Store } from '../store/store.js';
import type { Clock } from '../time/clock.js';
import type { IdSource } from '../util/ids.js';
import type { Logger } from '../util/logger.js';
import { schemaOf } from '../layout/schema.js';
import type { LeaseRecord } from '../records/lease-record.js';
import type { RetryPolicy } from '../util/retry.js';

/** A lease object as read from the store, with what the response said about time. */
export interface LeaseSnapshot {
  item: string;
  key: string;
  etag: string;
  /** Undefined when the object is not a valid lease (reported, and judged by ETag age alone). */
  record: LeaseRecord | undefined;
  /** Why `record` is undefined. */
  problem?: string;
  /** Store clock: when the object was written. */
  lastModified: Date;
  /** Store clock: when the response was produced. */
  storeDate: Date;
  /** Observer's monotonic clock when the response arrived. */
  seenAt: number;
}

/** A lease this node holds. Immutable: each renewal returns a new one. */
export interface HeldLease {
  run: string;
  item: string;
  key: string;
  etag: string;
  record: LeaseRecord;
  /**
   * Monotonic time when the write that produced `etag` was first sent. No
   * observer can start counting this version's age before it landed, so the
   * holder measures its own validity from here (a safe lower bound).
   */
  sentAt: number;
}

/** What lease operations need, and nothing more. */
export interface LeaseContext {
  store: Pick<Store, 'get' | 'put'>;
  clock: Clock;
  ids: IdSource;
  run: string;
  /** This node's id (written as `holder`). */
  node: string;
  /** TTL written into claims and renewals. */
  ttlMs: number;
  retry?: Partial<RetryPolicy>;
  logger?: Logger;
}

/** A fresh record for a first claim. */
export function newLeaseRecord(ctx: LeaseContext, item: string): LeaseRecord {
  const at = new Date(ctx.clock.now()).toISOString();
  return {
    schema: schemaOf('lease') as 'replay/lease/v1',
    run: ctx.run,
    item,
    holder: ctx.node,
    nonce: ctx.ids.ulid(),
    epoch: 1,
    state: 'held',
    ttlMs: ctx.ttlMs,
    attempts: 1,
    failedBy: [],
    acquiredAt: at,
    renewedAt: at,
  };
}

/** The record for acquiring over a previous one (re-claim of a released lease, take-over, or re-opening a done lease without a result). */
export function acquiredOver(ctx: LeaseContext, item: string, previous: LeaseRecord | undefined, failedHolder?: string): LeaseRecord {
  const fresh = newLeaseRecord(ctx, item);
  if (!previous) return fresh;
  const failedBy = failedHolder ? [...previous.failedBy, failedHolder] : [...previous.failedBy];
  return { ...fresh, epoch: previous.epoch + 1, attempts: previous.attempts + 1, failedBy };
}

/**
 * How a lease was acquired: `created` (no lease yet), `reclaimed` (it was
 * released), `took-over` (held, and expired), `reopened` (it said `done` but
 * the item has no result: docs/protocol.md §3.1).
 */
export type AcquiredHow = 'created' | 'reclaimed' | 'took-over' | 'reopened';

/** What claim and take-over report. `failedWrites` counts conditional writes that lost (the benchmark's "waste"). */
export type AcquireResult =
  | { kind: 'won'; how: AcquiredHow; lease: HeldLease; failedWrites: number }
  /** Someone holds it and it is not expired yet; `waitMs` is the earliest this observer could judge it expired. */
  | { kind: 'held'; current: LeaseSnapshot; waitMs: number; failedWrites: number }
  /** The item is finished (`done`: it has a result; `failed`: out of attempts). */
  | { kind: 'finished'; state: 'done' | 'failed'; current: LeaseSnapshot; failedWrites: number }
  /** Another node's write won between our read and our write. */
  | { kind: 'lost-race'; current: LeaseSnapshot | undefined; failedWrites: number };
