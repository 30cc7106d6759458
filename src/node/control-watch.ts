import { runKeys } from '../layout/keys.js';
import { CorruptObjectError } from '../layout/schema.js';
import { getIfExists } from '../store/get-if-exists.js';
import { listAll, update, type Store } from '../store/store.js';
import type { Logger } from '../util/logger.js';
import { ALL_NODES, decodeControl, effectiveControl, encodeControl, noControl, type ControlRecord, type ControlState } from '../records/control-record.js';

export interface ControlWatchContext {
  store: Pick<Store, 'list' | 'get' | 'put'>;
  logger: Logger;
  run: string;
  node: string;
}

interface Seen {
  etag: string;
  record: ControlRecord | undefined;
}

/**
 * Watches the operator's requests for this node: one listing of `control/`
 * per poll (usually empty or a couple of objects), and a GET only of this
 * node's object or the `all` object when its ETag changed. A corrupt
 * control object is reported and ignored.
 */
export class ControlWatch {
  private readonly seen = new Map<string, Seen>();
  private state: ControlState = noControl;

  constructor(private readonly ctx: ControlWatchContext) {}

  get current(): ControlState {
    return this.state;
  }

  /** Polls once; returns the effective state (paused, drain). */
  async poll(): Promise<ControlState> {
    const keys = runKeys(this.ctx.run);
    const wanted = new Map([
      [keys.control(this.ctx.node), this.ctx.node],
      [keys.control(ALL_NODES), ALL_NODES],
    ]);
    const listed = new Map<string, string>();
    for await (const info of listAll(this.ctx.store, keys.controlPrefix)) {
      if (wanted.has(info.key)) listed.set(info.key, info.etag);
    }
    for (const key of wanted.keys()) {
      const etag = listed.get(key);
      if (etag === undefined) this.seen.delete(key);
      else if (this.seen.get(key)?.etag !== etag) await this.read(key);
    }
    const own = this.seen.get(keys.control(this.ctx.node))?.record;
    const all = this.seen.get(keys.control(ALL_NODES))?.record;
    this.state = effectiveControl(own, all);
    return this.state;
  }

  /**
   * After draining: clears this node's own drain request (CAS on the ETag we
   * read, so an operator's newer request is never lost), so that a restart
   * with the same id does not drain again at once.
   */
  async clearOwnDrain(): Promise<void> {
    const key = runKeys(this.ctx.run).control(this.ctx.node);
    const seen = this.seen.get(key);
    if (!seen?.record?.drain) return;
    const cleared: ControlRecord = { ...seen.record, drain: false, requestedBy: `${this.ctx.node} (drained)` };
    try {
      await this.ctx.store.put(key, encodeControl(cleared), update(seen.etag));
    } catch (error) {
      this.ctx.logger.debug({ key, err: error }, 'drain request not cleared (changed meanwhile)');
    }
  }

  private async read(key: string): Promise<void> {
    const got = await getIfExists(this.ctx.store, key);
    if (!got) {
      this.seen.delete(key);
      return;
    }
    let record: ControlRecord | undefined;
    try {
      record = decodeControl(key, got.body);
    } catch (error) {
      if (!(error instanceof CorruptObjectError)) throw error;
      this.ctx.logger.warn({ key }, error.message);
    }
    this.seen.set(key, { etag: got.etag, record });
  }
}
