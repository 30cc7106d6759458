import { runKeys } from '../layout/keys.js';
import { StoreError } from '../store/errors.js';
import { overwrite, type Store } from '../store/store.js';
import type { Clock } from '../time/clock.js';
import { Ticker } from '../time/ticker.js';
import type { Logger } from '../util/logger.js';
import { encodeNodeRecord, type NodeRecord } from '../records/node-record.js';
import type { StoreClock } from './store-clock.js';

export interface HeartbeatContext {
  store: Pick<Store, 'put'>;
  clock: Clock;
  logger: Logger;
  run: string;
  node: string;
  storeClock: StoreClock;
  heartbeatMs: number;
  /** A write failed with a store error (default: logged as a warning); the next heartbeat tries again. */
  onWriteFailed?(error: StoreError): void;
  /** A write landed. */
  onWritten?(): void;
}

/** The parts of the record that change; the writer adds schema, seq and heartbeat time. */
export type NodeRecordFields = Omit<NodeRecord, 'schema' | 'run' | 'node' | 'seq' | 'heartbeatAt'>;

/**
 * Keeps `nodes/<node>.json` fresh: rewritten (overwrite: only this node
 * writes it) every `heartbeatMs`, and at once on demand (state change,
 * claim). Writes never overlap; a request during a write is coalesced
 * into one more write after it. A failed write is logged and the next
 * tick tries again: a missed heartbeat only makes others look sooner.
 */
export class Heartbeat {
  private seq = 0;
  private inFlight: Promise<void> | undefined;
  private again = false;
  private readonly ticker: Ticker;

  /** `onTick`: more work to do at each heartbeat (writing the pending results digest). */
  constructor(
    private readonly ctx: HeartbeatContext,
    private readonly fields: () => NodeRecordFields,
    onTick: () => Promise<void> = async () => {},
  ) {
    this.ticker = new Ticker(ctx.clock, ctx.heartbeatMs, () => Promise.all([this.write(), onTick()]).then(() => undefined), (error) => ctx.logger.warn({ err: error }, 'heartbeat failed'));
  }

  start(): void {
    this.ticker.start();
  }

  async stop(): Promise<void> {
    await this.ticker.stop();
    await this.inFlight;
  }

  /** Writes the current fields now (or right after the write in flight). */
  write(): Promise<void> {
    if (this.inFlight) {
      this.again = true;
      return this.inFlight;
    }
    this.inFlight = this.writeLoop().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async writeLoop(): Promise<void> {
    do {
      this.again = false;
      const record: NodeRecord = {
        schema: 'replay/node/v1',
        run: this.ctx.run,
        node: this.ctx.node,
        ...this.fields(),
        heartbeatAt: new Date(this.ctx.clock.now()).toISOString(),
        seq: ++this.seq,
      };
      try {
        const put = await this.ctx.store.put(runKeys(this.ctx.run).node(this.ctx.node), encodeNodeRecord(record), overwrite);
        this.ctx.storeClock.observe(put.storeDate);
        this.ctx.onWritten?.();
      } catch (error) {
        if (!(error instanceof StoreError)) throw error;
        if (this.ctx.onWriteFailed) this.ctx.onWriteFailed(error);
        else this.ctx.logger.warn({ err: error.message }, 'node record not written; trying again at the next heartbeat');
      }
    } while (this.again);
  }
}
