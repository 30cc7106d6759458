/**
 * Issue 19, part 4: the observer's defences against hostile data and
 * hostile requests, one test each, asserting what it does. Beside, not
 * instead of, test/observer/server.test.ts (CSP value, POST and DELETE
 * refused, one foreign Host refused, localhost:7070 accepted, no store URL
 * in any response) and test/observer/browser.test.ts (in Chromium: a node
 * name, host, failure message and log tail with HTML render as text, no
 * dialog, nothing blocked by the CSP). Here: every other field that reaches
 * a page, checked on the server's HTML and live fragments; the Host
 * variants of DNS rebinding; path traversal; every other method.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTENT_SECURITY_POLICY } from '../../src/observer/http/respond.js';
import { escapeHtml } from '../../src/observer/pages/html.js';
import { ObserverServer } from '../../src/observer/http/server.js';
import { Observer } from '../../src/observer/observer.js';
import { createFileStore, type FileStore } from '../../src/store/file.js';
import { systemClock } from '../../src/time/system-clock.js';
import { silentLogger } from '../../src/util/logger.js';
import { SseClient } from '../observer/support/sse-client.js';
import { RunFixture } from '../status/support/run-fixture.js';
import { wallMonotonic, wallSleep } from '../support/wall-clock.js';

/** A tag per field; the raw `<x-...>` must never appear in a response, its escaped form must. */
const tag = (field: string): string => `<x-${field} onmouseover="alert('${field}')">`;
const escaped = (field: string): string => `&lt;x-${field} onmouseover=&quot;alert(&#39;${field}&#39;)&quot;&gt;`;

let dir: string;
let store: FileStore;
let run: RunFixture;
let items: string[];
let observer: Observer;
let server: ObserverServer;
let base: string;
let port: number;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'observer-hostile-'));
  store = createFileStore(dir, { clock: systemClock });
  run = new RunFixture(store, 'r1');
  await run.publish({ count: 8 });
  items = run.itemIds();
  const live = { staleAfterMs: 600_000 };
  await run.node(tag('node'), { ...live, host: tag('host'), reason: tag('reason'), storeUnavailableSince: tag('since'), peerId: tag('peer'), items: [{ item: tag('node-item'), epoch: 1, startedAt: 'x' }] });
  await run.lease(items[0]!, { holder: tag('holder'), reason: tag('lease-reason'), acquiredAt: tag('acquired'), renewedAt: tag('renewed') });
  await run.lease(items[1]!, { state: 'failed', attempts: 3, failedBy: [tag('failed-by')] });
  await run.failure(items[1]!, { final: true, node: tag('failure-node'), reason: tag('failure-reason'), message: tag('message'), logTail: [tag('log')], at: tag('at') });
  const canonical = await run.done(items[2]!, { node: tag('result-node'), runner: tag('runner'), nodeosVersion: tag('nodeos'), timings: { [tag('timing')]: 1 } });
  await run.conflict(items[2]!, canonical, { node: tag('conflict-node'), endHash: 'e'.repeat(64) });
  await run.raw(`${run.keys.leasesPrefix}${tag('key')}.json`, 'x'); // a foreign key: listed under problems by name
  await store.put(`runs/${tag('run')}/manifest.json`, '{}', { kind: 'overwrite' }); // a foreign run directory
  observer = new Observer({ store, clock: systemClock, logger: silentLogger, observer: 'obs-hostile', live: { resyncMs: 600_000, nodesMs: 600_000, throttleMs: 20 } });
  observer.start();
  server = new ObserverServer({ observer, clock: systemClock, host: '127.0.0.1', port: 0, logger: silentLogger });
  base = await server.start();
  port = Number(new URL(base).port);
  const deadline = wallMonotonic() + 60_000;
  while (!(observer.get('r1')?.current()?.status.complete) && wallMonotonic() < deadline) await wallSleep(50);
});

afterAll(async () => {
  await server?.stop();
  await observer?.stop();
  await store?.close();
  await rm(dir, { recursive: true, force: true });
});

/** A raw request (fetch normalises paths and will not send a chosen Host or method); resolves with the status line and headers. */
function raw(request: string): Promise<{ status: number; head: string; body: string }> {
  return new Promise((resolve) => {
    let text = '';
    const socket = connect({ host: '127.0.0.1', port });
    socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
    socket.on('error', () => {});
    socket.on('close', () => {
      const [head = '', ...rest] = text.split('\r\n\r\n');
      resolve({ status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0), head, body: rest.join('\r\n\r\n') });
    });
    socket.write(request);
  });
}
const get = (path: string, host: string | null = `127.0.0.1:${port}`, method = 'GET') =>
  raw(`${method} ${path} HTTP/1.1\r\n${host === null ? '' : `Host: ${host}\r\n`}Connection: close\r\n\r\n`);

describe('HTML from the bucket is escaped on every page', () => {
  it('every field that reaches a page renders escaped, never as markup (pages and live fragments)', async () => {
    const pages = ['/', '/runs/r1', '/runs/r1/nodes', '/runs/r1/grid', `/runs/r1/items/${items[0]}`, `/runs/r1/items/${items[1]}`, `/runs/r1/items/${items[2]}`];
    let all = '';
    for (const path of pages) {
      const page = await get(path);
      expect(page.status, path).toBe(200);
      expect(page.body, path).not.toContain('<x-');
      all += page.body;
    }
    const client = new SseClient(`${base}/api/runs/r1/events?fragments=1`);
    await client.open();
    const fragments = JSON.parse((await client.next((e) => e.event === 'fragments')).data) as Record<string, string>;
    await client.close();
    for (const html of Object.values(fragments)) expect(html).not.toContain('<x-');
    all += Object.values(fragments).join('');
    const fields = [
      'node', 'host', 'reason', 'since', 'peer', 'node-item', 'holder', 'lease-reason', 'acquired', 'renewed', 'failed-by', 'failure-node', 'failure-reason',
      'message', 'log', 'at', 'result-node', 'runner', 'nodeos', 'timing', 'conflict-node', 'key', 'run',
    ];
    expect(fields.filter((field) => !all.includes(escaped(field)))).toEqual([]);
    // Links built from those values are percent-encoded, then escaped (encodeURIComponent keeps ' as is).
    expect(all).toContain(`href="/runs/r1/items/${escapeHtml(encodeURIComponent(tag('node-item')))}"`);
  });

  it('every response carries the CSP and the other security headers, errors and streams included', async () => {
    for (const path of ['/', '/runs/r1', '/api/runs/r1', '/metrics', '/healthz', '/nope', '/static/observer.css']) {
      const response = await get(path);
      expect(response.head, path).toContain(`content-security-policy: ${CONTENT_SECURITY_POLICY}`);
      expect(response.head, path).toMatch(/x-content-type-options: nosniff/);
      expect(response.head, path).toMatch(/x-frame-options: DENY/);
    }
    expect((await get('/', 'evil.example')).head).toContain(`content-security-policy: ${CONTENT_SECURITY_POLICY}`);
    const events = await fetch(`${base}/api/runs/r1/events`);
    expect(events.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    await events.body?.cancel();
  });
});

describe('requests', () => {
  it('Host (DNS rebinding): bound to loopback, only loopback names are served, with or without a port', async () => {
    const accepted = [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST:${port}`, `[::1]:${port}`, '127.0.0.1', '127.0.0.2', 'localhost'];
    const refused = ['evil.example', `evil.example:${port}`, 'localhost.evil.example', '127.0.0.1.evil.example', `localhost:${port}@evil.example`, '', '0.0.0.0', '2130706433', '127.1'];
    for (const host of accepted) expect([host, (await get('/healthz', host)).status]).toEqual([host, 200]);
    for (const host of refused) {
      const response = await get('/healthz', host);
      expect([host, response.status]).toEqual([host, 421]);
      expect(response.body).toContain('answers only to 127.0.0.1 or localhost');
    }
    expect((await get('/healthz', null)).status).toBe(400); // HTTP/1.1 without Host: node refuses it
    expect((await raw('GET /healthz HTTP/1.0\r\n\r\n')).status).toBe(421); // HTTP/1.0 without Host: not a loopback name
    // An absolute-form target names a host the Host check would not see: refused whatever the Host says.
    expect((await get('http://evil.example/api/runs/r1')).status).toBe(400);
  });

  it('Host: bound to another address (--host), no Host check (documented: use a proxy with authentication)', async () => {
    const open = new ObserverServer({ observer, clock: systemClock, host: '0.0.0.0', port: 0, logger: silentLogger });
    const url = await open.start();
    try {
      const response = await new Promise<number>((resolve) => {
        const socket = connect({ host: '127.0.0.1', port: Number(new URL(url).port) });
        socket.on('data', (chunk: Buffer) => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(chunk.toString())?.[1])));
        socket.write('GET /healthz HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n');
      });
      expect(response).toBe(200);
    } finally {
      await open.stop();
    }
  });

  it('path traversal: nothing outside the two static files and the routes is ever served', async () => {
    const attempts = [
      '/static/../../package.json', '/static/%2e%2e/%2e%2e/package.json', '/static/..%2f..%2fpackage.json', '/static/%2e%2e%2f%2e%2e%2fpackage.json',
      '/%2e%2e/%2e%2e/package.json', '/static/%252e%252e/package.json', '/static/..\\..\\package.json', '/static/observer.js%00.css',
      '//etc/passwd', '/static//etc/passwd', '/runs/r1/items/..%2f..%2fmanifest.json', '/api/runs/..%2fr1', '/api/runs/r1%2f..%2f..', '*',
    ];
    for (const path of attempts) {
      const response = await get(path);
      // `*` is not an origin-form target (400); the rest resolve to no route or file (404).
      expect([path, response.status]).toEqual([path, path === '*' ? 400 : 404]);
      expect(response.body, path).not.toContain('"name": "replay-cluster"');
      expect(response.body, path).not.toContain('root:');
    }
    expect((await get('/static/%ZZ')).status).toBe(400); // malformed escape: a one-line 400
    expect((await get('/static/observer.js')).status).toBe(200);
  });

  it('methods: GET and HEAD only; others 405 with Allow; CONNECT and unknown methods never reach a page', async () => {
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE', 'PROPFIND']) {
      const response = await get('/api/runs/r1', undefined, method);
      expect([method, response.status]).toEqual([method, 405]);
      expect(response.head, method).toMatch(/\r\nallow: GET, HEAD/i);
    }
    const head = await get('/runs/r1', undefined, 'HEAD');
    expect([head.status, head.body]).toEqual([200, '']);
    expect(head.head).toMatch(/content-length: [1-9]\d*/);
    expect((await get('/', undefined, 'FOO')).status).toBe(400); // node's parser refuses it
    const tunnel = await raw(`CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n`);
    expect(tunnel.status).not.toBe(200); // the connection is closed, no tunnel
  });
});
