/**
 * The observer's pages and JSON API (docs/observer.md). Read-only: GET and
 * HEAD only. Every page has a JSON twin under /api with the same data.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GossipCounters } from '../../gossip/gossip.js';
import { computeRunView } from '../../status/index.js';
import type { RequestCounts } from '../../store/counting-store.js';
import type { Clock } from '../../time/clock.js';
import type { LiveRun } from '../live-run.js';
import type { Observer } from '../observer.js';
import { itemPage, itemSection } from '../pages/item-page.js';
import { gridPage, loadingPage, nodesPage, overviewPage, runListPage, type RunListEntry } from '../pages/run-pages.js';
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
}

export const API_INDEX = {
  schema: 'replay/observer-api/v1',
  endpoints: {
    '/api/runs': 'the runs with their status summary',
    '/api/runs/{run}': 'the run status (replay/status/v1, lists capped at 100)',
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
  if (parts.length === 0) return sendHtml(res, runListPage(runList(ctx)));
  if (first === 'static' && rest.length === 1) return serveStatic(ctx, res, rest[0]!);
  if (first === 'metrics' && rest.length === 0) return sendMetrics(ctx, res);
  if (first === 'healthz' && rest.length === 0) return sendText(res, 'ok\n');
  if (first === 'runs' && rest.length >= 1) return runPage(ctx, req, res, rest);
  if (first === 'api') return api(ctx, req, res, url, rest);
  return sendText(res, 'not found\n', 404);
}

function runList(ctx: RouteContext): RunListEntry[] {
  return ctx.observer.runs().map(({ run, live, problem }) => {
    const status = live?.current()?.status;
    return status ? { run, status } : { run, ...(problem ? { problem } : {}) };
  });
}

function notFound(res: ServerResponse, what: string): void {
  sendText(res, `${what} not found\n`, 404);
}

async function runPage(ctx: RouteContext, req: IncomingMessage, res: ServerResponse, [run, page, ...rest]: string[]): Promise<void> {
  const live = ctx.observer.get(run!);
  if (!live) return notFound(res, `run ${run}`);
  const view = live.current();
  if (page === undefined) return sendHtml(res, view ? overviewPage(view) : loadingPage(run!));
  if (!view) return sendHtml(res, loadingPage(run!));
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
  if (parts.length === 1) return sendJson(res, runList(ctx).map(({ run, problem, status }) => ({ run, problem: problem ?? null, status: status ?? null })));
  const live = ctx.observer.get(parts[1]!);
  if (!live) return notFound(res, `run ${parts[1]}`);
  const [, , what, item, ...extra] = parts;
  if (what === 'events' && item === undefined) return serveEvents(req, res, live, { fragments: url.searchParams.has('fragments'), clock: ctx.clock });
  const view = live.current() ?? (await loadedView(live));
  if (what === undefined) return sendJson(res, view.status);
  if (what === 'grid' && item === undefined) return sendJson(res, { run: view.status.run, items: view.cells.length, cells: view.cells, legend: GRID_LEGEND });
  if (what === 'nodes' && item === undefined) return sendJson(res, view.status.nodes);
  if (what === 'items' && item !== undefined && extra.length === 0) {
    const detail = await live.itemDetail(item);
    return detail ? sendJson(res, detail) : notFound(res, `item ${item}`);
  }
  return notFound(res, 'endpoint');
}

const GRID_LEGEND = { '.': 'pending', w: 'working', x: 'expired', r: 'released', d: 'done', m: 'done, hash mismatch', f: 'failed', c: 'conflict', '?': 'unknown' };

/** Before the first view exists an API call waits for the first load rather than answering with nothing. */
async function loadedView(live: LiveRun) {
  await live.loaded();
  return live.current() ?? computeRunView(live.reader.state(), live.statusInput());
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
  send(res, 200, 'text/plain; version=0.0.4; charset=utf-8', renderMetrics({ runs, ...(ctx.storeRequests ? { storeRequests: ctx.storeRequests() } : {}) }));
}
