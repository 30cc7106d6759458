/**
 * The open event streams and the one rule that keeps a slow client from
 * growing the observer's memory (issue 19): `res.write()` never blocks, so
 * what a client does not read piles up in the response's buffer
 * (`writableLength`). A stream whose buffer is past `maxBufferedBytes` when
 * the next chunk is due is dropped (destroyed: nothing more can reach a
 * client that does not read) and logged once. Judged before a write, not
 * after: the first burst (every grid cell and the status, hundreds of KB on
 * a large run) sits in the buffer for a moment even for a fast reader. A
 * stream thus holds at most the bound plus one chunk. A browser that was only slow reconnects by itself
 * (`retry:`) and gets a full `cells` and status again, so dropping loses it
 * nothing; waiting for 'drain' instead would need a queue per client, which
 * is the memory this bounds.
 */
import type { ServerResponse } from 'node:http';
import type { Logger } from '../../util/logger.js';

export interface EventStream {
  /** Writes one chunk; false when the stream is closed or was just dropped. */
  write(chunk: string): boolean;
}

export interface EventStreamStats {
  /** Streams open now. */
  streams: number;
  /** Unsent bytes over all open streams. */
  bufferedBytes: number;
  /** Streams dropped for not reading, since start. */
  dropped: number;
}

export class EventStreams {
  private readonly open = new Set<ServerResponse>();
  private droppedTotal = 0;

  constructor(private readonly deps: { maxBufferedBytes: number; logger: Logger }) {}

  add(res: ServerResponse): EventStream {
    this.open.add(res);
    let dropped = false;
    res.once('close', () => this.open.delete(res));
    return {
      write: (chunk: string): boolean => {
        if (dropped || res.destroyed || res.writableEnded) return false;
        const buffered = res.writableLength;
        if (buffered <= this.deps.maxBufferedBytes) {
          res.write(chunk);
          return true;
        }
        dropped = true;
        this.droppedTotal += 1;
        this.open.delete(res);
        this.deps.logger.warn(
          { remote: res.req.socket.remoteAddress, url: res.req.url, bufferedBytes: buffered, limit: this.deps.maxBufferedBytes },
          'observer dropped an event-stream client that does not read (--max-buffered-bytes)',
        );
        res.destroy();
        return false;
      },
    };
  }

  stats(): EventStreamStats {
    let bufferedBytes = 0;
    for (const res of this.open) bufferedBytes += res.writableLength;
    return { streams: this.open.size, bufferedBytes, dropped: this.droppedTotal };
  }
}
