import { runKeys } from '../layout/keys.js';
import { CorruptObjectError } from '../layout/schema.js';
import { AlreadyExistsError, PreconditionFailedError } from '../store/errors.js';
import { getIfExists } from '../store/get-if-exists.js';
import { create, listAll, update, type Store } from '../store/store.js';
import type { Clock } from '../time/clock.js';
import { ALL_NODES, decodeControl, encodeControl, type ControlRecord, type ControlState } from '../records/control-record.js';

export interface ControlRequestContext {
  store: Pick<Store, 'get' | 'put' | 'list'>;
  clock: Pick<Clock, 'now'>;
  run: string;
  /** Who asks (user@host), written into the object for people. */
  by: string;
}

const ATTEMPTS = 5;

/**
 * Sets fields of one control object (`control/<target>.json`) by
 * read-modify-write with a conditional put, so two operators acting at once
 * never undo each other's other field. A corrupt object is replaced.
 */
export async function requestControl(ctx: ControlRequestContext, target: string, change: Partial<ControlState>): Promise<ControlRecord> {
  const key = runKeys(ctx.run).control(target);
  for (let attempt = 1; ; attempt++) {
    const got = await getIfExists(ctx.store, key);
    let before: ControlRecord | undefined;
    if (got) {
      try {
        before = decodeControl(key, got.body);
      } catch (error) {
        if (!(error instanceof CorruptObjectError)) throw error;
      }
    }
    const record: ControlRecord = {
      schema: 'replay/control/v1',
      run: ctx.run,
      target,
      paused: change.paused ?? before?.paused ?? false,
      drain: change.drain ?? before?.drain ?? false,
      requestedBy: ctx.by,
      requestedAt: new Date(ctx.clock.now()).toISOString(),
    };
    try {
      await ctx.store.put(key, encodeControl(record), got ? update(got.etag) : create);
      return record;
    } catch (error) {
      const raced = error instanceof AlreadyExistsError || error instanceof PreconditionFailedError;
      if (!raced || attempt >= ATTEMPTS) throw error;
    }
  }
}

/** `resume --all`: clears the cluster-wide pause and every node's own pause. Returns the targets changed. */
export async function resumeAll(ctx: ControlRequestContext): Promise<string[]> {
  const keys = runKeys(ctx.run);
  const targets = [ALL_NODES];
  for await (const info of listAll(ctx.store, keys.controlPrefix)) {
    const target = info.key.slice(keys.controlPrefix.length).replace(/\.json$/, '');
    if (target !== ALL_NODES && info.key === keys.control(target)) targets.push(target);
  }
  for (const target of targets) await requestControl(ctx, target, { paused: false });
  return targets;
}
