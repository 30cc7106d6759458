/**
 * The live stream of one run (`text/event-stream`), used by the pages and
 * open to scripts. Events, each with JSON data:
 *   `cells`       {"cells": "..wddr"}: every grid code (on connect, and when the item count changes)
 *   `cells-diff`  {"changes": [[index, code], ...]}: grid cells that changed
 *   `status`      the run's replay/status/v1 object (lists capped at 100)
 *   `fragments`   {"summary": "<html>", "trouble": ..., "nodes": ...}: the same, rendered (with ?fragments=1, for the pages)
 *   `gossip`      a gossip event as heard (claimed, done, released, failed, conflict, joining, leaving)
 * A comment line every 15 s keeps proxies from closing an idle stream.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LiveRun, ViewUpdate } from '../live-run.js';
import type { RunView } from '../../status/index.js';
import type { Clock } from '../../time/clock.js';
import { renderSections } from '../pages/run-sections.js';
import { SECURITY_HEADERS } from './respond.js';

const fragmentCache = new WeakMap<RunView, string>();

function fragmentsOf(view: RunView): string {
  let cached = fragmentCache.get(view);
  if (!cached) {
    const sections = renderSections(view.status);
    cached = JSON.stringify({ summary: sections.summary.value, trouble: sections.trouble.value, nodes: sections.nodes.value });
    fragmentCache.set(view, cached);
  }
  return cached;
}

const statusCache = new WeakMap<RunView, string>();
function statusOf(view: RunView): string {
  let cached = statusCache.get(view);
  if (!cached) {
    cached = JSON.stringify(view.status);
    statusCache.set(view, cached);
  }
  return cached;
}

export function serveEvents(req: IncomingMessage, res: ServerResponse, live: LiveRun, options: { fragments: boolean; clock: Clock; keepAliveMs?: number }): void {
  res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'text/event-stream; charset=utf-8', connection: 'keep-alive', 'x-accel-buffering': 'no' });
  let id = 0;
  const write = (event: string, data: string): void => {
    id += 1;
    res.write(`id: ${id}\nevent: ${event}\ndata: ${data}\n\n`);
  };
  const sendView = (view: RunView): void => {
    if (options.fragments) write('fragments', fragmentsOf(view));
    else write('status', statusOf(view));
  };
  res.write('retry: 2000\n\n');
  const first = live.current();
  if (first) {
    write('cells', JSON.stringify({ cells: first.cells }));
    sendView(first);
  }
  let sentCells = first !== undefined;
  const unsubscribe = live.subscribe({
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
  const closed = new AbortController();
  void (async () => {
    while (!closed.signal.aborted) {
      await options.clock.sleep(options.keepAliveMs ?? 15_000, closed.signal).catch(() => {});
      if (!closed.signal.aborted) res.write(': keep-alive\n\n');
    }
  })();
  const close = (): void => {
    closed.abort();
    unsubscribe();
  };
  req.on('close', close);
  res.on('close', close);
}
