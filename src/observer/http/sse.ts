/**
 * The live stream of one run (`text/event-stream`), used by the pages and
 * open to scripts. Events, each with JSON data:
 *   `cells`       {"cells": "..wddr"}: every grid code (on connect, and when the item count changes)
 *   `cells-diff`  {"changes": [[index, code], ...]}: grid cells that changed
 *   `status`      the run's replay/status/v1 object (lists capped at 100) plus `storeError`
 *   `fragments`   {"summary": "<html>", "trouble": ..., "nodes": ...}: the same, rendered (with ?fragments=1, for the pages)
 *   `gossip`      a gossip event as heard (claimed, done, released, failed, conflict, joining, leaving)
 * A comment line every 15 s keeps proxies from closing an idle stream.
 * A client that does not read is dropped once its unsent data passes the
 * bound (event-streams.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LiveRun, LiveView, ViewUpdate } from '../live-run.js';
import type { Clock } from '../../time/clock.js';
import { renderSections } from '../pages/run-sections.js';
import type { EventStreams } from './event-streams.js';
import { SECURITY_HEADERS } from './respond.js';

const fragmentCache = new WeakMap<LiveView, string>();

function fragmentsOf(view: LiveView): string {
  let cached = fragmentCache.get(view);
  if (!cached) {
    const sections = renderSections(view.status, view.storeError);
    cached = JSON.stringify({ summary: sections.summary.value, trouble: sections.trouble.value, nodes: sections.nodes.value });
    fragmentCache.set(view, cached);
  }
  return cached;
}

const statusCache = new WeakMap<LiveView, string>();
function statusOf(view: LiveView): string {
  let cached = statusCache.get(view);
  if (!cached) {
    cached = JSON.stringify({ ...view.status, storeError: view.storeError });
    statusCache.set(view, cached);
  }
  return cached;
}

export interface EventOptions {
  fragments: boolean;
  clock: Clock;
  streams: EventStreams;
  keepAliveMs?: number;
}

export function serveEvents(req: IncomingMessage, res: ServerResponse, live: LiveRun, options: EventOptions): void {
  res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'text/event-stream; charset=utf-8', connection: 'keep-alive', 'x-accel-buffering': 'no' });
  const stream = options.streams.add(res);
  const closed = new AbortController();
  let unsubscribe = (): void => {};
  const close = (): void => {
    closed.abort();
    unsubscribe();
  };
  req.on('close', close);
  res.on('close', close);
  let id = 0;
  const write = (event: string, data: string): void => {
    id += 1;
    if (!stream.write(`id: ${id}\nevent: ${event}\ndata: ${data}\n\n`)) close();
  };
  const sendView = (view: LiveView): void => {
    if (options.fragments) write('fragments', fragmentsOf(view));
    else write('status', statusOf(view));
  };
  stream.write('retry: 2000\n\n');
  const first = live.current();
  if (first) {
    write('cells', JSON.stringify({ cells: first.cells }));
    sendView(first);
  }
  let sentCells = first !== undefined;
  if (closed.signal.aborted) return; // dropped already
  unsubscribe = live.subscribe({
    view: (update: ViewUpdate) => {
      if (update.changed === 'all' || !sentCells) write('cells', JSON.stringify({ cells: update.view.cells }));
      else if (update.changed.length > 0) write('cells-diff', JSON.stringify({ changes: update.changed }));
      sentCells = true;
      if (update.statusChanged) sendView(update.view);
    },
    gossip: (message) => {
      if (message.type === 'event') write('gossip', JSON.stringify(message));
    },
  });
  void (async () => {
    while (!closed.signal.aborted) {
      await options.clock.sleep(options.keepAliveMs ?? 15_000, closed.signal).catch(() => {});
      if (!closed.signal.aborted && !stream.write(': keep-alive\n\n')) close();
    }
  })();
}
