import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReceivedMessage } from '../../src/gossip/gossip.js';
import { ObserverServer } from '../../src/observer/http/server.js';
import { Observer } from '../../src/observer/observer.js';
import { loadingPage } from '../../src/observer/pages/run-pages.js';
import type { ItemDetail, RunStatus } from '../../src/status/index.js';
import { createMemoryStore, type MemoryStore } from '../../src/store/memory.js';
import { systemClock } from '../../src/time/system-clock.js';
import { silentLogger } from '../../src/util/logger.js';
import { RunFixture } from '../status/support/run-fixture.js';
import { SseClient } from './support/sse-client.js';

let store: MemoryStore;
let run: RunFixture;
let items: string[];
let observer: Observer;
let server: ObserverServer;
let base: string;
const bodies: string[] = [];

async function get(path: string, init?: RequestInit): Promise<{ status: number; headers: Headers; text: string }> {
  const response = await fetch(`${base}${path}`, init);
  const text = await response.text();
  bodies.push(text);
  return { status: response.status, headers: response.headers, text };
}

/** A raw request with a chosen Host header (fetch does not let tests set it). */
function withHost(host: string): Promise<number> {
  const { port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', headers: { host } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  store = createMemoryStore({ clock: systemClock, description: 's3://bucket/?secretAccessKey=SECRET-DO-NOT-SHOW' });
  run = new RunFixture(store, 'r1');
  await run.publish({ count: 20 });
  items = run.itemIds();
  for (const item of items.slice(0, 5)) await run.done(item);
  await run.node('n1', { items: [{ item: items[5]!, epoch: 1, startedAt: 'x', headBlock: 5_200, blocksPerSecond: 30 }], staleAfterMs: 600_000 });
  await run.node('q"uote', { staleAfterMs: 600_000 });
  await run.lease(items[5]!, { holder: 'n1' });
  observer = new Observer({ store, clock: systemClock, logger: silentLogger, observer: 'obs-test', runs: ['r1'], live: { resyncMs: 600_000, nodesMs: 600_000, throttleMs: 20 } });
  observer.start();
  await observer.loaded();
  server = new ObserverServer({ observer, clock: systemClock, host: '127.0.0.1', port: 0, logger: silentLogger, storeRequests: () => store.counters });
  base = await server.start();
});

afterAll(async () => {
  await server.stop();
  await observer.stop();
  // Nothing the observer served may carry the store's URL (it can hold credentials).
  for (const body of bodies) expect(body).not.toContain('SECRET');
});

describe('observer HTTP server', () => {
  it('answers with the security headers, GET and HEAD only, and only to loopback names', async () => {
    const page = await get('/runs/r1');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toBe(
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    );
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(page.text).not.toMatch(/<script>|style="/); // no inline script or style for the CSP to block
    expect((await get('/runs/r1', { method: 'POST' })).status).toBe(405);
    expect((await get('/api/runs/r1', { method: 'DELETE' })).status).toBe(405);
    expect(await withHost('evil.example:80')).toBe(421);
    expect(await withHost('localhost:7070')).toBe(200);
    expect((await get('/runs/nope')).status).toBe(404);
    expect((await get('/static/observer.js')).headers.get('content-type')).toMatch(/javascript/);
  });

  it('serves a JSON API mirroring the pages', async () => {
    const index = JSON.parse((await get('/api')).text) as { endpoints: Record<string, string> };
    expect(Object.keys(index.endpoints)).toContain('/api/runs/{run}/events');
    const runs = JSON.parse((await get('/api/runs')).text) as Array<{ run: string; status: RunStatus }>;
    expect(runs.map((r) => [r.run, r.status.items.done])).toEqual([['r1', 5]]);
    const status = JSON.parse((await get('/api/runs/r1')).text) as RunStatus;
    expect(status).toMatchObject({ schema: 'replay/status/v1', items: { done: 5, working: 1, pending: 14 } });
    const grid = JSON.parse((await get('/api/runs/r1/grid')).text) as { cells: string; items: number };
    expect([grid.items, grid.cells.slice(0, 7)]).toEqual([20, 'dddddw.']);
    const nodes = JSON.parse((await get('/api/runs/r1/nodes')).text) as Array<{ node: string }>;
    expect(nodes.map((n) => n.node)).toEqual(['n1', 'q"uote']);
    const detail = JSON.parse((await get(`/api/runs/r1/items/${items[5]}`)).text) as ItemDetail;
    expect(detail).toMatchObject({ item: items[5], index: 5, state: 'working', lease: { holder: 'n1', state: 'held' }, holder: { node: 'n1' } });
    expect((await get('/api/runs/r1/items/0000000000-0000000007')).status).toBe(404);
    const cell = await fetch(`${base}/runs/r1/cell/3`, { redirect: 'manual' });
    expect(cell.headers.get('location')).toBe(`/runs/r1/items/${items[3]}`);
  });

  it('streams cells, status and gossip events; a gossip "done" turns the cell done without waiting for a re-sync', async () => {
    const client = new SseClient(`${base}/api/runs/r1/events`);
    await client.open();
    const first = await client.next((e) => e.event === 'cells');
    expect((JSON.parse(first.data) as { cells: string }).cells[5]).toBe('w');
    await client.next((e) => e.event === 'status');

    await run.done(items[5]!);
    const message: ReceivedMessage = {
      from: '12D3KooWn1',
      message: { schema: 'replay/gossip/v1', run: 'r1', node: 'n1', id: '01J0000000000000000000000A', sentAt: 0, type: 'event', event: 'done', item: items[5]!, hash: 'ab' },
    };
    observer.get('r1')!.observe(message);
    const diff = await client.next((e) => e.event === 'cells-diff');
    expect(JSON.parse(diff.data)).toEqual({ changes: [[5, 'd']] });
    expect(JSON.parse((await client.next((e) => e.event === 'gossip')).data)).toMatchObject({ event: 'done', item: items[5] });
    await client.close();
  });

  it('a page served before the first listing has the sections the live stream fills in', () => {
    const page = loadingPage('r1');
    for (const id of ['summary', 'trouble', 'nodes', 'grid', 'event-log']) expect(page).toContain(`id="${id}"`);
  });

  it('exposes Prometheus metrics with escaped labels', async () => {
    const metrics = await get('/metrics');
    expect(metrics.headers.get('content-type')).toMatch(/^text\/plain; version=0.0.4/);
    expect(metrics.text).toMatch(/^# HELP replay_items Items of the run by state\.\n# TYPE replay_items gauge\n/);
    expect(metrics.text).toMatch(/\nreplay_items\{run="r1",state="done"\} \d+\n/);
    expect(metrics.text).toContain('replay_node_up{run="r1",node="q\\"uote",state="working"} 1');
    expect(metrics.text).toMatch(/\nreplay_observer_store_requests_total\{kind="get"\} \d+\n/);
  });
});
