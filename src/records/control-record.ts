/**
 * Operator requests without a central server: `runs/<run>/control/<target>.json`
 * (schema `replay/control/v1`), where `<target>` is a node id or `all`.
 * Written by `replay-node pause|resume|drain`; every node watches its own
 * and the `all` object with conditional GETs (a 304 costs nothing to parse).
 *
 * A node is paused when either object says `paused`; it drains (finishes
 * its current items, then exits) when either says `drain`. A node that
 * drained clears its own drain request on the way out, so a restart with
 * the same id does not drain again at once.
 */
import { isValidName } from '../layout/keys.js';
import { CorruptObjectError, decodeJson, encodeJson } from '../layout/schema.js';

export const ALL_NODES = 'all';

export interface ControlRecord {
  schema: 'replay/control/v1';
  run: string;
  /** A node id, or `all`. */
  target: string;
  paused: boolean;
  drain: boolean;
  /** Who asked (user@host), and when by their wall clock; for people. */
  requestedBy: string;
  requestedAt: string;
}

export interface ControlState {
  paused: boolean;
  drain: boolean;
}

export const noControl: ControlState = { paused: false, drain: false };

/** What a node must do given its own control object and the cluster-wide one. */
export function effectiveControl(own: ControlState | undefined, all: ControlState | undefined): ControlState {
  return {
    paused: Boolean(own?.paused || all?.paused),
    drain: Boolean(own?.drain || all?.drain),
  };
}

export function isValidTarget(target: string): boolean {
  return target === ALL_NODES || isValidName(target);
}

export const encodeControl = (record: ControlRecord): string => encodeJson(record);

/** @throws CorruptObjectError */
export function decodeControl(key: string, body: Uint8Array | string): ControlRecord {
  const r = decodeJson<ControlRecord>(key, body, 'control');
  if (typeof r.paused !== 'boolean') throw new CorruptObjectError(key, 'field "paused" missing or invalid');
  if (typeof r.drain !== 'boolean') throw new CorruptObjectError(key, 'field "drain" missing or invalid');
  return r;
}
