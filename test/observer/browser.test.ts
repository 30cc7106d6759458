/**
 * End to end in headless Chromium: the real `replay-observer serve` over a
 * file store in which a run is "in progress" (objects written with the real
 * record encoders), seen through the browser: an item turns done without a
 * reload, HTML from the bucket renders as text, the CSP holds.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFileStore } from '../../src/store/file.js';
import type { Store } from '../../src/store/store.js';
import { systemClock } from '../../src/time/system-clock.js';
import { RunFixture } from '../status/support/run-fixture.js';
import { cellBecomes, launchBrowser, pageState } from './support/browser.js';
import { ObserverProcess } from './support/observer-process.js';
import { cliPath } from '../support/cli.js';
import { execa } from 'execa';

const EVIL = '<img src=x onerror=alert(1)>';
const screenshots = join(process.cwd(), 'test-results', 'observer');

let dir: string;
let store: Store;
let run: RunFixture;
let items: string[];
const observer = new ObserverProcess();
let browser: Awaited<ReturnType<typeof launchBrowser>>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'observer-e2e-'));
  store = createFileStore(dir, { clock: systemClock });
  run = new RunFixture(store, 'r1');
  await run.publish({ count: 400, span: 1000 });
  items = run.itemIds();
  for (const item of items.slice(0, 100)) await run.done(item);
  await run.node('n1', { items: [{ item: items[100]!, epoch: 1, startedAt: 'x', headBlock: 100_500, blocksPerSecond: 40 }], heartbeatMs: 1_000, staleAfterMs: 600_000 });
  await run.lease(items[100]!, { holder: 'n1' });
  await run.node(EVIL, { host: '<script>alert(2)</script>', staleAfterMs: 600_000 });
  await run.lease(items[101]!, { state: 'failed', attempts: 3 });
  await run.failure(items[101]!, { final: true, message: '<b>bold</b> & </td>', logTail: ['<script>alert(3)</script>', 'last line'] });
  await mkdir(screenshots, { recursive: true });
  await observer.start(['--store', pathToFileURL(dir).href, '--run', 'r1', '--no-gossip', '--resync-ms', '1000']);
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await observer.stop();
  await store?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('the observer in a browser', () => {
  it('shows a run in progress and turns an item done without a reload', async () => {
    const page = await browser.context.newPage();
    const dialogs: string[] = [];
    const blocked: string[] = [];
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    page.on('console', (message) => {
      if (/Content Security Policy|Refused to/.test(message.text())) blocked.push(message.text());
    });
    const response = await page.goto(`${observer.url}/runs/r1`);
    expect(response?.headers()['content-security-policy']).toMatch(/script-src 'self'/);
    await page.locator('#live', { hasText: /^live$/ }).waitFor();
    // The page may come before the observer's first listing: it fills in from the stream.
    await page.locator('td[data-state="done"]', { hasText: /^100$/ }).waitFor({ timeout: 60_000 });
    expect(await page.textContent('td[data-state="working"]')).toBe('1');
    expect((await pageState(page)).cells.slice(99, 103)).toBe('dwf.');

    const loads: string[] = [];
    page.on('framenavigated', (frame) => loads.push(frame.url()));
    await run.done(items[100]!);
    await run.node('n1', { items: [], state: 'waiting', seq: 2, heartbeatMs: 1_000, staleAfterMs: 600_000 });
    // (No string predicates: evaluating strings in the page is what the CSP forbids.)
    await page.locator('td[data-state="done"]', { hasText: /^101$/ }).waitFor({ timeout: 20_000 });
    await cellBecomes(page, 100, 'd');
    expect(loads).toEqual([]);
    await page.screenshot({ path: join(screenshots, 'overview.png'), fullPage: true });
    expect(dialogs).toEqual([]);
    expect(blocked).toEqual([]);
  });

  it('follows real replay nodes: a sim node works through a run and the page shows items turning done, no reload', async () => {
    const real = new RunFixture(store, 'r2');
    await real.publish({ count: 4, span: 1000 });
    const page = await browser.context.newPage();
    const live = new ObserverProcess();
    await live.start(['--store', pathToFileURL(dir).href, '--run', 'r2', '--id', 'obs-real', '--data-dir', join(dir, 'obs-real'), '--listen', '/ip4/127.0.0.1/tcp/0', '--resync-ms', '1000']);
    const node = execa('node', [cliPath('replay-node'), 'join', '--store', pathToFileURL(dir).href, '--run', 'r2', '--node', 'real-1', '--runner', 'sim',
      '--sim-speed', '400', '--exit-when-done', '--data-dir', join(dir, 'real-1'), '--listen', '/ip4/127.0.0.1/tcp/0'], { reject: false, env: { LOG_LEVEL: 'warn' } });
    try {
      await page.goto(`${live.url}/runs/r2`);
      await page.locator('#live', { hasText: /^live$/ }).waitFor();
      const loads: string[] = [];
      page.on('framenavigated', (frame) => loads.push(frame.url()));
      await page.locator('td[data-state="done"]', { hasText: /^[1-9]/ }).waitFor({ timeout: 60_000 });
      await page.locator('td[data-state="done"]', { hasText: /^4$/ }).waitFor({ timeout: 60_000 });
      expect((await pageState(page)).cells).toBe('dddd');
      expect(await page.locator('td.node-name', { hasText: 'real-1' }).count()).toBe(1);
      expect(loads).toEqual([]);
      await page.screenshot({ path: join(screenshots, 'real-node.png'), fullPage: true });
      expect((await node).exitCode).toBe(0);
    } finally {
      node.kill('SIGTERM');
      await live.stop();
    }
  });

  it('renders HTML from the bucket as text: a node name, a host, a failure message and log tail', async () => {
    const page = await browser.context.newPage();
    const dialogs: string[] = [];
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    await page.goto(`${observer.url}/runs/r1/nodes`);
    const names = await page.locator('td.node-name').allTextContents();
    expect(names).toContain(EVIL);
    expect(await page.locator('#nodes img').count()).toBe(0);
    expect(await page.locator('#nodes script').count()).toBe(0);
    expect(await page.locator('#nodes').textContent()).toContain('<script>alert(2)</script>');

    await page.goto(`${observer.url}/runs/r1/items/${items[101]}`);
    expect(await page.locator('pre.log').textContent()).toBe('<script>alert(3)</script>\nlast line');
    expect(await page.locator('details.failure summary').textContent()).toContain('<b>bold</b> & </td>');
    expect(await page.locator('#item b', { hasText: 'bold' }).count()).toBe(0);
    await page.screenshot({ path: join(screenshots, 'item.png'), fullPage: true });
    expect(dialogs).toEqual([]);
  });
});
