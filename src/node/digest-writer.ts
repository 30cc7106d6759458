import { runKeys } from '../layout/keys.js';
import { putNew } from '../store/put-new.js';
import type { Store } from '../store/store.js';
import type { Clock } from '../time/clock.js';
import type { IdSource } from '../util/ids.js';
import type { Logger } from '../util/logger.js';
import { digestEntryOf, encodeDigest, MAX_DIGEST_ENTRIES, type DigestEntry, type DigestRecord } from '../records/digest-record.js';
import type { ResultRecord } from '../records/result-record.js';
import { messageOf } from '../util/message-of.js';

export interface DigestWriterContext {
  store: Pick<Store, 'put'>;
  clock: Pick<Clock, 'now' | 'sleep'>;
  ids: IdSource;
  logger: Logger;
  run: string;
  node: string;
}

/** Pending entries that trigger a write at once, rather than at the next heartbeat. */
const FLUSH_AT = 100;
const ATTEMPTS = 3;

/**
 * Collects the summaries of the results this node wrote and writes them as
 * digests (digest-record.ts): at every heartbeat when there is something to
 * write, at once when 100 are pending, and on stop. One PUT per digest; at
 * most one PUT per result when results are rare, far fewer when they come
 * fast. A digest that cannot be written is kept and tried again with the
 * next one (readers read uncovered results themselves meanwhile).
 */
export class DigestWriter {
  private pending: DigestEntry[] = [];
  private writing: Promise<void> | undefined;

  constructor(private readonly ctx: DigestWriterContext) {}

  add(result: ResultRecord): void {
    this.pending.push(digestEntryOf(result));
    if (this.pending.length >= FLUSH_AT) void this.flush();
  }

  /** Writes what is pending (one write at a time; a call during a write waits for it, then writes the rest). */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
    if (this.pending.length === 0) return;
    this.writing = this.writeSome().finally(() => {
      this.writing = undefined;
    });
    await this.writing;
  }

  private async writeSome(): Promise<void> {
    const batch = this.pending.slice(0, MAX_DIGEST_ENTRIES);
    const key = runKeys(this.ctx.run).digest(this.ctx.node, this.ctx.ids.ulid());
    const record: DigestRecord = {
      schema: 'replay/digest/v1', run: this.ctx.run, node: this.ctx.node,
      writtenAt: new Date(this.ctx.clock.now()).toISOString(), results: batch,
    };
    try {
      await putNew(this.ctx, key, encodeDigest(record), { attempts: ATTEMPTS, maxDelayMs: 1_000 });
      this.pending = this.pending.slice(batch.length);
    } catch (error) {
      this.ctx.logger.warn({ entries: batch.length, err: messageOf(error) }, 'results digest not written; it will be retried with the next one (readers read those results directly meanwhile)');
    }
  }
}
