/**
 * The observer's pages and JSON API (docs/observer.md). Read-only: GET and
 * HEAD only. Every page has a JSON twin under /api with the same data.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GossipCounters } from '../../gossip/gossip.js';
import type { RequestCounts } from '../../store/counting-store.js';
import type { Clock } from '../../time/clock.js';
import { within } from '../../time/ticker.js';
import type { LiveRun, LiveView } from '../live-run.js';
import type { Observer } from '../observer.js';
import { itemPage, itemSection } from '../pages/item-page.js';
import { gridPage, loadingPage, nodesPage, overviewPage, runListPage, type RunListEntry } from '../pages/run-pages.js';
import type { EventStreams, EventStreamStats } from './event-streams.js';
import { renderMetrics } from './metrics.js';
import { redirect, send, sendHtml, sendJson, sendText } from './respond.js';
import { serveEvents } from './sse.js';
import type { StaticFile } from './static-files.js';

export interface RouteContext {
  observer: Observer;
  clock: Clock;
  staticFiles: ReadonlyMap<string, StaticFile>;
  storeRequests?: () => RequestCounts;
  gossipCounters?: (run: string) => GossipCounters | undefined;
  /** How long an API call waits for a run's first load before answering 503 (default 10 s). */
  firstLoadWaitMs?: number;
  streams: EventStreams;
  httpStats?: () => EventStreamStats & { connections: number; rejectedConnections: number };
}

export const API_INDEX = {
  schema: 'replay/observer-api/v1',
  endpoints: {
    '/api/runs': 'the runs with their status summary and storeError (503 with storeError when the store cannot be listed and no run is known)',
    '/api/runs/{run}': 'the run status (replay/status/v1, lists capped at 100) plus storeError (null while the store answers)',
    '/api/runs/{run}/grid': 'one grid code per item in manifest order ({cells, legend})',
    '/api/runs/{run}/nodes': 'the nodes (as in the status)',
    '/api/runs/{run}/items/{item}': 'one item: lease, result, conflicts, failures with log tails',
    '/api/runs/{run}/events': 'server-sent events: cells, cells-diff, status, gossip',
    '/metrics': 'Prometheus metrics',
  },
};

export async function route(ctx: RouteContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    return send(res, 405, 'text/plain; charset=utf-8', 'the observer is read-only: GET and HEAD only\n', { allow: 'GET, HEAD' });
  }
  const url = new URL(req.url ?? '/', 'http://observer.invalid');
  let parts: string[];
  try {
    parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  } catch {
    return sendText(res, 'malformed URL\n', 400);
  }
  const [first, ...rest] = parts;
  if (parts.length === 0) return sendHtml(res, runListPage(runList(ctx), ctx.observer.storeError()));
  if (first === 'static' && rest.length === 1) return serveStatic(ctx, res, rest[0]!);
  if (first === 'metrics' && rest.length === 0) return sendMetrics(ctx, res);
  if (first === 'healthz' && rest.length === 0) return sendText(res, 'ok\n');
  if (first === 'runs' && rest.length >= 1) return runPage(ctx, req, res, rest);
  if (first === 'api') return api(ctx, req, res, url, rest);
  return sendText(res, 'not found\n', 404);
}

function runList(ctx: RouteContext): RunListEntry[] {
  const listingError = ctx.observer.storeError();
  return ctx.observer.runs().map(({ run, live, problem }) => {
    const status = live?.current()?.status;
    const storeError = live?.storeError() ?? listingError;
    return status ? { run, status, storeError } : { run, ...(problem ? { problem } : {}), storeError };
  });
}

function notFound(res: ServerResponse, what: string): void {
  sendText(res, `${what} not found\n`, 404);
}

async function runPage(ctx: RouteContext, req: IncomingMessage, res: ServerResponse, [run, page, ...rest]: string[]): Promise<void> {
  const live = ctx.observer.get(run!);
  if (!live) return notFound(res, `run ${run}`);
  const view = live.current();
  if (page === undefined) return sendHtml(res, view ? overviewPage(view) : loadingPage(run!, live.storeError()));
  if (!view) return sendHtml(res, loadingPage(run!, live.storeError()));
  if (page === 'grid' && rest.length === 0) return sendHtml(res, gridPage(view));
  if (page === 'nodes' && rest.length === 0) return sendHtml(res, nodesPage(view));
  if (page === 'cell' && rest.length === 1) {
    const item = live.reader.state().items[Number(rest[0])];
    return item ? redirect(res, `/runs/${encodeURIComponent(run!)}/items/${encodeURIComponent(item.id)}`) : notFound(res, 'cell');
  }
  if (page === 'items' && rest.length === 1) {
    const detail = await live.itemDetail(rest[0]!);
    if (!detail) return notFound(res, `item ${rest[0]}`);
    const fragment = new URL(req.url ?? '/', 'http://x').searchParams.has('fragment');
    return sendHtml(res, fragment ? itemSection(detail).value : itemPage(detail));
  }
  return notFound(res, 'page');
}

async function api(ctx: RouteContext, req: IncomingMessage, res: ServerResponse, url: URL, parts: string[]): Promise<void> {
  if (parts.length === 0) return sendJson(res, API_INDEX);
  if (parts[0] !== 'runs') return notFound(res, 'endpoint');
  if (parts.length === 1) return sendRunList(ctx, res);
  const live = ctx.observer.get(parts[1]!);
  if (!live) return notFound(res, `run ${parts[1]}`);
  const [, , what, item, ...extra] = parts;
  if (what === 'events' && item === undefined) return serveEvents(req, res, live, { fragments: url.searchParams.has('fragments'), clock: ctx.clock, streams: ctx.streams });
  const view = live.current() ?? (await loadedView(ctx, live));
  // Still no view: the first load neither finished nor failed yet (a store that does not answer at all, timeouts pending).
  if (!view) return sendJson(res, { run: live.run, loading: true, storeError: live.storeError() }, 503);
  if (what === undefined) return sendJson(res, { ...view.status, storeError: view.storeError });
  if (what === 'grid' && item === undefined) return sendJson(res, { run: view.status.run, items: view.cells.length, cells: view.cells, legend: GRID_LEGEND });
  if (what === 'nodes' && item === undefined) return sendJson(res, view.status.nodes);
  if (what === 'items' && item !== undefined && extra.length === 0) {
    const detail = await live.itemDetail(item);
    return detail ? sendJson(res, detail) : notFound(res, `item ${item}`);
  }
  return notFound(res, 'endpoint');
}

const GRID_LEGEND = { '.': 'pending', w: 'working', x: 'expired', r: 'released', d: 'done', m: 'done, hash mismatch', f: 'failed', c: 'conflict', '?': 'unknown' };

/** The runs; with no run known and the listing failing, a 503 with the store error (an empty list would read as "no runs"). */
function sendRunList(ctx: RouteContext, res: ServerResponse): void {
  const runs = runList(ctx);
  const listingError = ctx.observer.storeError();
  if (runs.length === 0 && listingError) return sendJson(res, { runs: [], storeError: listingError }, 503);
  sendJson(res, runs.map(({ run, problem, status, storeError }) => ({ run, problem: problem ?? null, status: status ?? null, storeError: storeError ?? null })));
}

/** Before the first view exists an API call waits for the first load (bounded) rather than answering with nothing. */
async function loadedView(ctx: RouteContext, live: LiveRun): Promise<LiveView | undefined> {
  await within(ctx.clock, ctx.firstLoadWaitMs ?? 10_000, live.loaded());
  return live.current();
}

function serveStatic(ctx: RouteContext, res: ServerResponse, name: string): void {
  const file = ctx.staticFiles.get(name);
  if (!file) return notFound(res, 'file');
  send(res, 200, file.type, file.body);
}

function sendMetrics(ctx: RouteContext, res: ServerResponse): void {
  const runs = ctx.observer.runs().map(({ run, live }) => ({
    run,
    status: live?.current()?.status,
    failureRecords: live?.reader.state().failures.size ?? 0,
    gossip: ctx.gossipCounters?.(run),
  }));
  const storeUp = !ctx.observer.storeError() && ctx.observer.runs().every(({ live }) => !live?.storeError());
  send(res, 200, 'text/plain; version=0.0.4; charset=utf-8', renderMetrics({
    runs, storeUp, ...(ctx.storeRequests ? { storeRequests: ctx.storeRequests() } : {}), ...(ctx.httpStats ? { http: ctx.httpStats() } : {}),
  }));
}
